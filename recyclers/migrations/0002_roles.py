from django.db import migrations

ROLES = ["operator", "source", "carrier", "recycler", "separator", "refinery", "buyer", "auditor"]


def add_roles(apps, schema_editor):
    OrganizationRole = apps.get_model("recyclers", "OrganizationRole")
    for code in ROLES:
        OrganizationRole.objects.get_or_create(code=code)


class Migration(migrations.Migration):
    dependencies = [("recyclers", "0001_initial")]

    operations = [migrations.RunPython(add_roles, migrations.RunPython.noop)]
