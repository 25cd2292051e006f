"""The transparency log (DESIGN invariant 10): its queue, leaves, stored nodes and signed
checkpoints. Every event already in the ledger is queued, in id order, and the trigger queues
every event inserted from now on; the integrator (``custody.services.transparency_log``, the
``integrate_log`` command) gives them their log indexes. Leaves, nodes and checkpoints are
append-only, and TRUNCATE is refused on every append-only table (PostgreSQL)."""

import django.db.models.deletion
from django.db import migrations, models

from custody import db_triggers

# The append-only tables before this migration (later ones add theirs: not read from
# ``db_triggers.APPEND_ONLY_TABLES``, which grows).
EARLIER_TABLES = (
    db_triggers.EVENTS,
    db_triggers.TRANSFORMATIONS,
    db_triggers.LOT_LINKS,
    db_triggers.VISIBILITY,
    db_triggers.FEED_ENTRIES,
)


def install(apps, schema_editor):
    connection = schema_editor.connection
    db_triggers.install(connection, tables=(*EARLIER_TABLES, *db_triggers.LOG_TABLES))
    db_triggers.install_log_queue(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {db_triggers.LOG_QUEUE} (event_id, hash) "
            f"SELECT id, hash FROM {db_triggers.EVENTS} ORDER BY id"
        )


def drop(apps, schema_editor):
    connection = schema_editor.connection
    db_triggers.drop_log_queue(connection)
    db_triggers.drop(connection, tables=db_triggers.LOG_TABLES)
    db_triggers.install(connection, tables=EARLIER_TABLES, truncate=False)


class Migration(migrations.Migration):
    dependencies = [
        ("custody", "0010_lot_visibility_and_feed"),
    ]

    operations = [
        migrations.CreateModel(
            name="LogCheckpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("tree_size", models.BigIntegerField(unique=True)),
                ("root_hash", models.BinaryField(max_length=32)),
                ("note", models.TextField()),
                ("signed_at", models.DateTimeField()),
            ],
            options={
                "get_latest_by": "tree_size",
            },
        ),
        migrations.CreateModel(
            name="LogLeaf",
            fields=[
                (
                    "index",
                    models.BigIntegerField(db_column="id", primary_key=True, serialize=False),
                ),
                ("hash", models.BinaryField(max_length=32)),
                (
                    "event",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="log_leaf",
                        to="custody.custodyevent",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="LogNode",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("level", models.PositiveSmallIntegerField()),
                ("index", models.BigIntegerField()),
                ("hash", models.BinaryField(max_length=32)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("level", "index"), name="log_node_unique_position"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="LogQueue",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "event",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="custody.custodyevent",
                    ),
                ),
                ("hash", models.CharField(max_length=64)),
            ],
        ),
        migrations.RunPython(install, drop),
    ]
