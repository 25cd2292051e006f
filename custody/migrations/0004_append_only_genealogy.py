from django.db import migrations

from custody import db_triggers

TABLES = [db_triggers.TRANSFORMATIONS, db_triggers.LOT_LINKS]


def install(apps, schema_editor):
    db_triggers.install(schema_editor.connection, tables=TABLES)


def drop(apps, schema_editor):
    db_triggers.drop(schema_editor.connection, tables=TABLES)


class Migration(migrations.Migration):
    dependencies = [("custody", "0003_transformations")]

    operations = [migrations.RunPython(install, drop)]
