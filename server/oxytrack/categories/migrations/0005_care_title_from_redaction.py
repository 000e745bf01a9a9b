"""The starter care rule also matches the title the agent's default redaction writes.

The agent replaces the title of a care program's window with "Logiciel de soins"
on the PC (its built-in "Logiciels de soins" rules); the starter rule, which
looks at titles only, sent that time to "Non classé". A rule the super-admin
has edited is left as they wrote it.
"""

import uuid

from django.db import migrations

# Written out, not imported from starter.py: a migration keeps doing what it did.
BEFORE = (
    r"apologic|intranet oxytrack|ameli ?pro|netsoins|medimust|dossiers? (de )?soins"
    r"|dossiers? patients?|dmp\b|mon espace sant[ée]"
)
AFTER = BEFORE + r"|^logiciel de soins$"


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
    _swap(apps, BEFORE, AFTER)


def backwards(apps, schema_editor):
    _swap(apps, AFTER, BEFORE)


class Migration(migrations.Migration):
    dependencies = [("categories", "0004_category_day")]
    operations = [migrations.RunPython(forwards, backwards)]
