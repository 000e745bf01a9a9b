"""The starter care rule also matches the title the agent's default redaction writes.

The agent replaces the title of a care program's window with "Logiciel de soins"
on the PC (its built-in "Logiciels de soins" rules); the starter rule, which
looks at titles only, sent that time to "Non classé". A rule the super-admin
has edited is left as they wrote it.
"""

import uuid

from django.db import migrations

from oxytrack.categories.starter import CARE_TITLE_PATTERN, CARE_TITLE_PATTERN_0002


def _swap(apps, old: str, new: str) -> None:
    Category = apps.get_model("categories", "Category")
    Revision = apps.get_model("categories", "Revision")
    changed = Category.objects.filter(
        name="Logiciel de soins", app_pattern="", title_pattern=old
    ).update(title_pattern=new)
    if changed:
        # Every process and the window map follow the token (revision.py).
        Revision.objects.filter(pk=1).update(token=uuid.uuid4().hex)


def forwards(apps, schema_editor):
    _swap(apps, CARE_TITLE_PATTERN_0002, CARE_TITLE_PATTERN)


def backwards(apps, schema_editor):
    _swap(apps, CARE_TITLE_PATTERN, CARE_TITLE_PATTERN_0002)


class Migration(migrations.Migration):
    dependencies = [("categories", "0004_category_day")]
    operations = [migrations.RunPython(forwards, backwards)]
