import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from custody import db_triggers
from custody.models.policy_versions import content_sha256, policy_content


def backfill(apps, schema_editor):
    """A version row for every policy that has none yet (the default from 0006 and any an
    operator saved), numbered as the policy's current version."""
    OriginPolicy = apps.get_model("custody", "OriginPolicy")
    OriginPolicyVersion = apps.get_model("custody", "OriginPolicyVersion")
    for policy in OriginPolicy.objects.filter(versions__isnull=True).order_by("pk"):
        content = policy_content(policy)
        OriginPolicyVersion.objects.create(
            policy=policy,
            number=policy.version,
            content=content,
            content_sha256=content_sha256(content),
            saved_at=policy.updated_at,
        )


def install(apps, schema_editor):
    db_triggers.install(schema_editor.connection, tables=[db_triggers.POLICY_VERSIONS])


def drop(apps, schema_editor):
    db_triggers.drop(schema_editor.connection, tables=[db_triggers.POLICY_VERSIONS])


class Migration(migrations.Migration):
    dependencies = [
        ("custody", "0012_certification_acceptances"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="OriginPolicyVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField()),
                ("content", models.JSONField()),
                ("content_sha256", models.CharField(max_length=64)),
                ("saved_at", models.DateTimeField()),
                (
                    "policy",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="versions",
                        to="custody.originpolicy",
                    ),
                ),
                (
                    "saved_by",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty for a version a migration or the demo recorded.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="saved_policy_versions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["policy", "-number"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("policy", "number"), name="one_policy_version_number"
                    )
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(install, drop),
    ]
