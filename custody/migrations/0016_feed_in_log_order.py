"""The partners' feeds in commit order: their entries are written by the transparency log's
integrator, in log order (``custody.services.transparency_log.write_feed``), no longer in the ledger
transaction, and need no hold-back, so they lose the time they were written. The entries written
before are rewritten from the log, in its order, by the same function the integrator calls;
events not yet in the log get theirs when they enter it. Feed cursors issued before this
migration name entries that no longer exist: the API answers them 400 ``stale_cursor``, and the
partner reads its feed again from the start (README, "Partner API")."""

from django.db import migrations, models

from custody import db_triggers
from custody.services.transparency_log import write_feed

# Runs per call: the events of a few batches of the log at most.
RUNS = 200
EVENTS = 100_000


def rewrite(apps, schema_editor):
    LogRun = apps.get_model("custody", "LogRun")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {db_triggers.FEED_ENTRIES}")
    chunk, events = [], 0
    runs = LogRun.objects.order_by("first_index").values_list(
        "first_event_id", "last_event_id", "first_index"
    )
    for run in runs.iterator(chunk_size=RUNS):
        chunk.append(run)
        events += run[1] - run[0] + 1
        if len(chunk) >= RUNS or events >= EVENTS:
            write_feed(chunk)
            chunk, events = [], 0
    write_feed(chunk)


def stamp(apps, schema_editor):
    """Reversed: the entries, in log order, get the time their event was recorded."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {db_triggers.FEED_ENTRIES} SET recorded_at = (SELECT e.recorded_at FROM "
            f"{db_triggers.EVENTS} e WHERE e.id = {db_triggers.FEED_ENTRIES}.event_id)"
        )


def drop(apps, schema_editor):
    db_triggers.drop(schema_editor.connection, tables=[db_triggers.FEED_ENTRIES])


def install(apps, schema_editor):
    db_triggers.install(schema_editor.connection, tables=[db_triggers.FEED_ENTRIES])


class Migration(migrations.Migration):
    dependencies = [("custody", "0015_certificates_and_reports")]

    operations = [
        migrations.RunPython(drop, install),
        # Nullable first, so that a reversal can add the column back to the entries, then
        # stamp them, then make it required again.
        migrations.AlterField(
            model_name="feedentry", name="recorded_at", field=models.DateTimeField(null=True)
        ),
        migrations.RunPython(migrations.RunPython.noop, stamp),
        migrations.RemoveField(model_name="feedentry", name="recorded_at"),
        migrations.RunPython(rewrite, migrations.RunPython.noop),
        migrations.RunPython(install, drop),
    ]
