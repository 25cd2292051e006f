"""Certificates of origin and their acts, append-only like the events; reports, the jobs that
produce certificates, ledger exports and audit packs."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from custody import db_triggers

TABLES = [db_triggers.CERTIFICATES, db_triggers.CERTIFICATE_ACTS]


def install(apps, schema_editor):
    db_triggers.install(schema_editor.connection, tables=TABLES)


def drop(apps, schema_editor):
    db_triggers.drop(schema_editor.connection, tables=TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("custody", "0014_log_tiles"),
        ("recyclers", "0004_reference_data_history"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Certificate",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("issued_at", models.DateTimeField()),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("verified", "Verified"),
                            ("unverified", "Unverified"),
                            ("non_compliant", "Non-compliant"),
                        ],
                        max_length=16,
                    ),
                ),
                ("assessed_at", models.DateTimeField()),
                (
                    "token",
                    models.TextField(help_text="The credential, a VC-JWT (application/vc+jwt)."),
                ),
                (
                    "kid",
                    models.CharField(help_text="The key that signed it (DID URL).", max_length=500),
                ),
                (
                    "tree_size",
                    models.BigIntegerField(help_text="The log's size at the checkpoint it names."),
                ),
                (
                    "checkpoint",
                    models.TextField(help_text="The signed note it was issued against."),
                ),
                ("upstream_root", models.CharField(max_length=64)),
                ("upstream_events", models.IntegerField()),
                (
                    "ledger_sha256",
                    models.CharField(help_text="SHA-256 of the ledger CSV.", max_length=64),
                ),
                (
                    "issued_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="issued_certificates",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "lot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="certificates",
                        to="custody.lot",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="certificates",
                        to="recyclers.organization",
                    ),
                ),
                (
                    "policy",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="certificates",
                        to="custody.originpolicyversion",
                    ),
                ),
            ],
            options={
                "ordering": ["-issued_at"],
            },
        ),
        migrations.CreateModel(
            name="CertificateAct",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[("revoked", "Revoked"), ("superseded", "Superseded")],
                        max_length=16,
                    ),
                ),
                ("reason", models.TextField()),
                ("acted_at", models.DateTimeField()),
                (
                    "acted_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="certificate_acts",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "certificate",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="act",
                        to="custody.certificate",
                    ),
                ),
                (
                    "superseded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="supersedes",
                        to="custody.certificate",
                    ),
                ),
            ],
            options={
                "ordering": ["-acted_at"],
            },
        ),
        migrations.CreateModel(
            name="Report",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("certificate", "Certificate of origin (PDF)"),
                            ("ledger_csv", "Upstream ledger (CSV)"),
                            ("audit_pack", "Audit pack (zip)"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("done", "Done"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=16,
                    ),
                ),
                ("progress", models.PositiveSmallIntegerField(default=0)),
                ("error", models.TextField(blank=True)),
                ("file", models.FileField(blank=True, upload_to="reports/%Y/%m/")),
                ("sha256", models.CharField(blank=True, max_length=64)),
                ("size", models.BigIntegerField(blank=True, null=True)),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "certificate",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reports",
                        to="custody.certificate",
                    ),
                ),
                (
                    "lot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reports",
                        to="custody.lot",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reports",
                        to="recyclers.organization",
                    ),
                ),
                (
                    "policy",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty: the default policy's latest version when the report runs.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="custody.originpolicyversion",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="requested_reports",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
            },
        ),
        migrations.AddIndex(
            model_name="certificate",
            index=models.Index(fields=["lot", "-issued_at"], name="custody_cer_lot_id_980752_idx"),
        ),
        migrations.AddConstraint(
            model_name="certificateact",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("action", "superseded"), ("superseded_by__isnull", False)),
                    models.Q(("action", "revoked"), ("superseded_by__isnull", True)),
                    _connector="OR",
                ),
                name="certificate_act_superseded_names_successor",
            ),
        ),
        migrations.AddConstraint(
            model_name="certificateact",
            constraint=models.CheckConstraint(
                condition=models.Q(("reason", ""), _negated=True), name="certificate_act_has_reason"
            ),
        ),
        migrations.AddIndex(
            model_name="report",
            index=models.Index(
                fields=["organization", "-created_at"], name="custody_rep_organiz_a3a56f_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="report",
            index=models.Index(fields=["status"], name="custody_rep_status_2f8ebb_idx"),
        ),
        migrations.AddConstraint(
            model_name="report",
            constraint=models.CheckConstraint(
                condition=models.Q(("progress__lte", 100)), name="report_progress_at_most_100"
            ),
        ),
        migrations.RunPython(install, drop),
    ]
