"""The starter categories and the built-in app names (starter.py)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from oxytrack.categories.revision import seed

    Revision = apps.get_model("categories", "Revision")
    if not Revision.objects.filter(pk=1).exists():
        seed(
            apps.get_model("categories", "Category"),
            apps.get_model("categories", "AppName"),
            Revision,
        )


def backwards(apps, schema_editor):
    for name in ("Category", "AppName", "Revision"):
        apps.get_model("categories", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("categories", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
