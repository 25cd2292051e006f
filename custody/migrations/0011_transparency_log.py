"""The transparency log (DESIGN invariant 10): its queue, leaves, stored nodes and signed
checkpoints. Every event already in the ledger is queued, in id order, and the trigger queues
every event inserted from now on; the integrator (``custody.services.transparency_log``, the
``integrate_log`` command) gives them their log indexes. Leaves, nodes and checkpoints are
append-only, and TRUNCATE is refused on every append-only table (PostgreSQL)."""

import django.db.models.deletion
from django.db import migrations, models

from custody import db_triggers

# The tables as this migration made them (0014 replaced the leaves, nodes and queue).
LOG_TABLES = ("custody_logleaf", "custody_lognode", "custody_logcheckpoint")
LEDGER_TABLES = (
    db_triggers.EVENTS,
    db_triggers.TRANSFORMATIONS,
    db_triggers.LOT_LINKS,
    db_triggers.VISIBILITY,
    db_triggers.FEED_ENTRIES,
)
QUEUE = "custody_logqueue"
POSTGRES_QUEUE = f"""
CREATE OR REPLACE FUNCTION custody_log_enqueue() RETURNS trigger AS $$
BEGIN
    INSERT INTO {QUEUE} (event_id, hash) SELECT id, hash FROM inserted ORDER BY id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {db_triggers.EVENTS}_log_enqueue ON {db_triggers.EVENTS};
CREATE TRIGGER {db_triggers.EVENTS}_log_enqueue AFTER INSERT ON {db_triggers.EVENTS}
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION custody_log_enqueue();
"""
SQLITE_QUEUE = f"""
CREATE TRIGGER IF NOT EXISTS {db_triggers.EVENTS}_log_enqueue AFTER INSERT ON {db_triggers.EVENTS}
BEGIN INSERT INTO {QUEUE} (event_id, hash) VALUES (NEW.id, NEW.hash); END;
"""


def install(apps, schema_editor):
    connection = schema_editor.connection
    db_triggers.install(connection, tables=(*LEDGER_TABLES, *LOG_TABLES))
    with connection.cursor() as cursor:
        cursor.execute(POSTGRES_QUEUE if connection.vendor == "postgresql" else SQLITE_QUEUE)
        cursor.execute(
            f"INSERT INTO {QUEUE} (event_id, hash) "
            f"SELECT id, hash FROM {db_triggers.EVENTS} ORDER BY id"
        )


def drop(apps, schema_editor):
    connection = schema_editor.connection
    db_triggers.drop_log_queue(connection)
    db_triggers.drop(connection, tables=LOG_TABLES)
    db_triggers.install(connection, tables=LEDGER_TABLES, truncate=False)


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
