"""The transparency log in tiles (``custody.tiles``): the leaf hashes and interior nodes as rows
of up to 256 hashes, events mapped to leaves by runs of consecutive ids, and the trigger's
entries kept as the integrator's input instead of a queue it empties. The leaves already in
the log move into tiles in their order, so every checkpoint signed before still verifies."""

import importlib

from django.db import migrations, models

from custody import db_triggers, merkle, tiles

# 0011's queue, which a reversal restores.
log_0011 = importlib.import_module("custody.migrations.0011_transparency_log")

OLD_LOG_TABLES = ("custody_logleaf", "custody_lognode")
NEW_LOG_TABLES = (
    db_triggers.LOG_ENTRIES,
    db_triggers.LOG_RUNS,
    db_triggers.LOG_TILES,
    db_triggers.LOG_BATCHES,
)


def move_into_tiles(apps, schema_editor):
    connection = schema_editor.connection
    db_triggers.drop_log_queue(connection)
    db_triggers.drop(connection, tables=OLD_LOG_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {db_triggers.LOG_ENTRIES} (id, hash) "
            f"SELECT id, hash FROM {db_triggers.EVENTS}"
        )
        cursor.execute("SELECT event_id, hash FROM custody_logleaf ORDER BY id")
        leaves = [(event_id, bytes(digest)) for event_id, digest in cursor.fetchall()]
    db_triggers.install_log_queue(connection)
    db_triggers.install(connection, tables=NEW_LOG_TABLES)
    if not leaves:
        return
    event_ids = [event_id for event_id, _ in leaves]
    frontier = merkle.Frontier()
    nodes = frontier.extend([digest for _, digest in leaves], tiles.TILE_HEIGHT)
    runs = tiles.runs(event_ids, 0)
    watermark = max(event_ids)
    rows = tiles.new_tiles(0, b"".join(digest for _, digest in leaves), nodes, {})
    LogTile, LogRun, LogBatch = (apps.get_model("custody", name) for name in TILED)
    LogTile.objects.bulk_create(
        LogTile(level=level, index=index, width=width, hashes=blob)
        for level, index, width, blob in rows
    )
    LogRun.objects.bulk_create(
        LogRun(first_event_id=first, last_event_id=last, first_index=at) for first, last, at in runs
    )
    # Every id below the watermark that no leaf took stays open until no event has it.
    gaps = [[first, last, 0] for first, last in tiles.gaps(1, watermark, runs)]
    LogBatch.objects.create(tree_size=len(leaves), watermark=watermark, open_gaps=gaps)


TILED = ("LogTile", "LogRun", "LogBatch")
OLD_NODE_STRIDE = 4  # the levels 0011 stored nodes at


def move_out_of_tiles(apps, schema_editor):
    """Back to 0011's leaves, nodes and queue: the same tree, the events not in it queued."""
    connection = schema_editor.connection
    LogTile, LogRun, _ = (apps.get_model("custody", name) for name in TILED)
    widest = {}
    for tile in LogTile.objects.filter(level=0).order_by("index", "width"):
        widest[tile.index] = bytes(tile.hashes)
    leaves = tiles.hashes_of(b"".join(widest[index] for index in sorted(widest)))
    event_at = {}
    for run in LogRun.objects.all():
        for offset in range(run.last_event_id - run.first_event_id + 1):
            event_at[run.first_index + offset] = run.first_event_id + offset
    nodes = merkle.Frontier().extend(leaves, OLD_NODE_STRIDE)
    db_triggers.drop_log_queue(connection)
    db_triggers.drop(connection, tables=NEW_LOG_TABLES)
    LogLeaf, LogNode = (apps.get_model("custody", name) for name in ("LogLeaf", "LogNode"))
    LogLeaf.objects.bulk_create(
        LogLeaf(index=index, event_id=event_at[index], hash=digest)
        for index, digest in enumerate(leaves)
    )
    LogNode.objects.bulk_create(
        LogNode(level=level, index=index, hash=digest) for level, index, digest in nodes
    )
    with connection.cursor() as cursor:
        postgres = connection.vendor == "postgresql"
        cursor.execute(log_0011.POSTGRES_QUEUE if postgres else log_0011.SQLITE_QUEUE)
        cursor.execute(
            f"INSERT INTO {log_0011.QUEUE} (event_id, hash) SELECT id, hash FROM {db_triggers.EVENTS} "
            f"WHERE id NOT IN (SELECT event_id FROM custody_logleaf) ORDER BY id"
        )
    db_triggers.install(connection, tables=OLD_LOG_TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("custody", "0013_origin_policy_versions"),
    ]

    operations = [
        migrations.CreateModel(
            name="LogBatch",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("tree_size", models.BigIntegerField(unique=True)),
                ("watermark", models.BigIntegerField()),
                ("open_gaps", models.JSONField(default=list)),
            ],
        ),
        migrations.CreateModel(
            name="LogEntry",
            fields=[
                ("id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("hash", models.CharField(max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name="LogRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("first_event_id", models.BigIntegerField(unique=True)),
                ("last_event_id", models.BigIntegerField()),
                ("first_index", models.BigIntegerField(unique=True)),
            ],
        ),
        migrations.CreateModel(
            name="LogTile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("level", models.PositiveSmallIntegerField()),
                ("index", models.BigIntegerField()),
                ("width", models.PositiveSmallIntegerField()),
                ("hashes", models.BinaryField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("level", "index", "width"), name="log_tile_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(move_into_tiles, move_out_of_tiles),
        migrations.DeleteModel(name="LogLeaf"),
        migrations.DeleteModel(name="LogNode"),
        migrations.DeleteModel(name="LogQueue"),
    ]
