"""The transparency log in tiles (``custody.tiles``): the leaf hashes and interior nodes as rows
of up to 256 hashes, events mapped to leaves by runs of consecutive ids, and the trigger's
entries kept as the integrator's input instead of a queue it empties. The leaves already in
the log move into tiles in their order, so every checkpoint signed before still verifies."""

from django.db import migrations, models

from custody import db_triggers, merkle, tiles

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


class Migration(migrations.Migration):
    dependencies = [
        ("custody", "0011_transparency_log"),
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
        migrations.RunPython(move_into_tiles),
        migrations.DeleteModel(name="LogLeaf"),
        migrations.DeleteModel(name="LogNode"),
        migrations.DeleteModel(name="LogQueue"),
    ]
