"""Acceptances of retroactive certifications, append-only like the events."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from custody import db_triggers


def install(apps, schema_editor):
    db_triggers.install(schema_editor.connection, tables=[db_triggers.ACCEPTANCES])


def drop(apps, schema_editor):
    db_triggers.drop(schema_editor.connection, tables=[db_triggers.ACCEPTANCES])


class Migration(migrations.Migration):
    dependencies = [
        ("custody", "0011_transparency_log"),
        ("recyclers", "0004_reference_data_history"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CertificationAcceptance",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("accepted_by_api_key_prefix", models.CharField(blank=True, max_length=16)),
                ("accepted_at", models.DateTimeField()),
                (
                    "reason",
                    models.TextField(
                        help_text="Why the certification counts for events before it."
                    ),
                ),
                (
                    "accepted_by_organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="certification_acceptances",
                        to="recyclers.organization",
                    ),
                ),
                (
                    "accepted_by_user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="certification_acceptances",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "certification",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="acceptances",
                        to="recyclers.certification",
                    ),
                ),
                (
                    "certification_version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="recyclers.historicalcertification",
                    ),
                ),
            ],
            options={
                "ordering": ["-accepted_at", "-pk"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("certification_version",), name="acceptance_unique_version"
                    )
                ],
            },
        ),
        migrations.RunPython(install, drop),
    ]
