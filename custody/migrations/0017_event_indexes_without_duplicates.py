"""Events keep one index per question: the hash's uniqueness as a constraint (its ``unique=True``
also built a LIKE index on the same random keys, which nothing reads), and no index on the lot
alone (``event_unique_seq_per_lot`` starts with it). Each write to a large ledger touched a
random page of each index and wrote it whole to the WAL after a checkpoint. The constraint is
added before the field's own index goes, so hashes are never without one.

SQLite alters a column by rebuilding its table, which drops the table's triggers: the events'
append-only triggers and the log's queue are installed again (idempotently) after it, either
way."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from custody import db_triggers


def reinstall_triggers(apps, schema_editor):
    db_triggers.install(schema_editor.connection, tables=[db_triggers.EVENTS])
    db_triggers.install_log_queue(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("custody", "0016_feed_in_log_order"),
        ("recyclers", "0004_reference_data_history"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="custodyevent",
            constraint=models.UniqueConstraint(fields=("hash",), name="event_unique_hash"),
        ),
        migrations.AlterField(
            model_name="custodyevent",
            name="hash",
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name="custodyevent",
            name="lot",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="events",
                to="custody.lot",
            ),
        ),
        migrations.RunPython(reinstall_triggers, reinstall_triggers),
    ]
