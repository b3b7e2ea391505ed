"""Create the single version row, so the first change is an UPDATE like every later one."""

from django.db import migrations


def create_row(apps, schema_editor):
    PolicySetVersion = apps.get_model("cors_policies", "PolicySetVersion")
    PolicySetVersion.objects.using(schema_editor.connection.alias).get_or_create(pk=1, defaults={"version": 1})


def delete_row(apps, schema_editor):
    PolicySetVersion = apps.get_model("cors_policies", "PolicySetVersion")
    PolicySetVersion.objects.using(schema_editor.connection.alias).filter(pk=1).delete()


class Migration(migrations.Migration):
    dependencies = [("cors_policies", "0001_initial")]

    operations = [migrations.RunPython(create_row, delete_row)]
