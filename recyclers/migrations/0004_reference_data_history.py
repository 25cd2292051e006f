"""The history of reference data (django-simple-history), append-only on PostgreSQL, with a
baseline: one "created" record for every existing organization, facility, certification and
membership, dated when the row was created (its ``created_at``), with the values it has now.
Values a row had before this migration and later changed were never kept; the baseline is the
best the database knows.
"""

import django.core.validators
import django.db.models.deletion
import django_countries.fields
import simple_history.models
from django.conf import settings
from django.db import migrations, models

import recyclers.gs1
from recyclers import db_triggers

BASELINE_REASON = "baseline: the row as it stood when history began"


def _baseline_record(history_model, row, fields):
    return history_model(
        **{field: getattr(row, field) for field in fields},
        history_date=row.created_at,
        history_type="+",
        history_change_reason=BASELINE_REASON,
    )


def create_baseline(apps, schema_editor):
    for name in ("Organization", "Facility", "Certification", "Membership"):
        model = apps.get_model("recyclers", name)
        history_model = apps.get_model("recyclers", f"Historical{name}")
        fields = [
            field.attname
            for field in history_model._meta.concrete_fields
            if not field.name.startswith("history_")
        ]
        records = [_baseline_record(history_model, row, fields) for row in model.objects.all()]
        history_model.objects.bulk_create(records)
        if name == "Organization":
            _baseline_roles(apps, model, history_model)


def _baseline_roles(apps, organization_model, history_model):
    role_history = apps.get_model("recyclers", "HistoricalOrganization_roles")
    through = organization_model.roles.through
    record_of = {record.id: record for record in history_model.objects.all()}
    role_history.objects.bulk_create(
        role_history(
            history=record_of[row.organization_id],
            id=row.id,
            organization_id=row.organization_id,
            organizationrole_id=row.organizationrole_id,
        )
        for row in through.objects.all()
    )


def install_triggers(apps, schema_editor):
    db_triggers.install(schema_editor.connection)


def drop_triggers(apps, schema_editor):
    db_triggers.drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("recyclers", "0003_organization_api_keys"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalOrganization",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                ("slug", models.SlugField(max_length=64)),
                ("name", models.CharField(max_length=200)),
                ("legal_name", models.CharField(blank=True, max_length=200)),
                (
                    "country",
                    django_countries.fields.CountryField(
                        help_text="Country of incorporation.", max_length=2
                    ),
                ),
                ("website", models.URLField(blank=True)),
                ("contact_email", models.EmailField(blank=True, max_length=254)),
                ("is_active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(blank=True, editable=False)),
                ("history_user_id", models.IntegerField(blank=True, db_index=True, null=True)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
            ],
            options={
                "verbose_name": "historical organization",
                "verbose_name_plural": "historical organizations",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalCertification",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "scheme",
                    models.CharField(
                        choices=[
                            ("r2v3", "R2v3"),
                            ("e_stewards", "e-Stewards"),
                            ("iso_14001", "ISO 14001"),
                            ("iso_45001", "ISO 45001"),
                            ("iso_9001", "ISO 9001"),
                            ("rmap", "RMAP (Responsible Minerals Assurance Process)"),
                            ("naid_aaa", "NAID AAA"),
                            ("other", "Other"),
                        ],
                        max_length=32,
                    ),
                ),
                ("number", models.CharField(max_length=100)),
                (
                    "issued_by",
                    models.CharField(blank=True, help_text="Certification body.", max_length=200),
                ),
                ("valid_from", models.DateField()),
                ("valid_until", models.DateField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("active", "Active"),
                            ("suspended", "Suspended"),
                            ("withdrawn", "Withdrawn"),
                            ("expired", "Expired"),
                        ],
                        default="active",
                        max_length=16,
                    ),
                ),
                (
                    "document_sha256",
                    models.CharField(
                        blank=True,
                        max_length=64,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[0-9a-f]{64}$", "Lower-case hex SHA-256 expected."
                            )
                        ],
                        verbose_name="document SHA-256",
                    ),
                ),
                ("created_at", models.DateTimeField(blank=True, editable=False)),
                ("history_user_id", models.IntegerField(blank=True, db_index=True, null=True)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "facility",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="recyclers.facility",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical certification",
                "verbose_name_plural": "historical certifications",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalFacility",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("data_center", "Data center"),
                            ("warehouse", "Warehouse / depot"),
                            ("recycling_plant", "Recycling / dismantling plant"),
                            ("separation_plant", "Separation plant"),
                            ("refinery", "Refinery"),
                            ("magnet_plant", "Magnet plant"),
                            ("office", "Office"),
                            ("other", "Other"),
                        ],
                        max_length=32,
                    ),
                ),
                ("country", django_countries.fields.CountryField(max_length=2)),
                (
                    "region",
                    models.CharField(blank=True, help_text="State or province.", max_length=100),
                ),
                ("city", models.CharField(blank=True, max_length=100)),
                ("address", models.CharField(blank=True, max_length=300)),
                (
                    "gln",
                    models.CharField(
                        blank=True,
                        help_text="GS1 Global Location Number, 13 digits with its check digit.",
                        max_length=13,
                        validators=[recyclers.gs1.validate_gln],
                        verbose_name="GLN",
                    ),
                ),
                ("is_active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(blank=True, editable=False)),
                ("history_user_id", models.IntegerField(blank=True, db_index=True, null=True)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="recyclers.organization",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical facility",
                "verbose_name_plural": "historical facilities",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalMembership",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "is_admin",
                    models.BooleanField(
                        default=False, help_text="May manage the organization's keys."
                    ),
                ),
                ("created_at", models.DateTimeField(blank=True, editable=False)),
                ("history_user_id", models.IntegerField(blank=True, db_index=True, null=True)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="recyclers.organization",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical membership",
                "verbose_name_plural": "historical memberships",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalOrganization_roles",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                ("m2m_history_id", models.AutoField(primary_key=True, serialize=False)),
                (
                    "history",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        to="recyclers.historicalorganization",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_tablespace="",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="recyclers.organization",
                    ),
                ),
                (
                    "organizationrole",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_tablespace="",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="recyclers.organizationrole",
                    ),
                ),
            ],
            options={
                "verbose_name": "HistoricalOrganization_roles",
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(create_baseline, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, drop_triggers),
    ]
