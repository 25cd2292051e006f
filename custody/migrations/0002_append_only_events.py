from django.db import migrations

from custody import db_triggers


def install(apps, schema_editor):
    db_triggers.install(schema_editor.connection, tables=[db_triggers.EVENTS])


def drop(apps, schema_editor):
    db_triggers.drop(schema_editor.connection, tables=[db_triggers.EVENTS])


class Migration(migrations.Migration):
    dependencies = [("custody", "0001_initial")]

    operations = [migrations.RunPython(install, drop)]
