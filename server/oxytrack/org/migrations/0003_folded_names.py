"""Folded name columns: accent- and case-insensitive search, French sort order."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

import oxytrack.org.models
from oxytrack.web.formatting import fold

BATCH = 2000


def fill_folded_names(apps: Apps, _schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Historical models have none of Employee's properties: spelt out here as
    # Employee.shown_name and Employee.searched_text do.
    for unit_model in (apps.get_model("org", "Agency"), apps.get_model("org", "Service")):
        units = list(unit_model.objects.all())
        for unit in units:
            unit.sort_name = fold(unit.name)[:100]
        unit_model.objects.bulk_update(units, ["sort_name"])
    employee_model = apps.get_model("org", "Employee")
    batch = []
    rows = employee_model.objects.only("display_name", "username", "domain")
    for employee in rows.iterator(chunk_size=BATCH):
        name, user, domain = employee.display_name, employee.username, employee.domain
        login = f"{domain}\\{user}" if domain else user
        employee.sort_name = fold(name or login)[:200]
        employee.search_name = fold("\n".join([name, user, login]))[:1000]
        batch.append(employee)
        if len(batch) >= BATCH:
            employee_model.objects.bulk_update(batch, ["sort_name", "search_name"])
            batch = []
    employee_model.objects.bulk_update(batch, ["sort_name", "search_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0002_employee_display_name_locked"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="agency",
            options={"ordering": ["sort_name", "name"], "verbose_name": "agence"},
        ),
        migrations.AlterModelOptions(
            name="employee",
            options={
                "ordering": ["sort_name", "display_name", "username"],
                "verbose_name": "utilisateur",
            },
        ),
        migrations.AlterModelOptions(
            name="service",
            options={"ordering": ["sort_name", "name"], "verbose_name": "service"},
        ),
        migrations.AddField(
            model_name="agency",
            name="sort_name",
            field=oxytrack.org.models.FoldedField(default="", max_length=100, source="name"),
        ),
        migrations.AddField(
            model_name="employee",
            name="search_name",
            field=oxytrack.org.models.FoldedField(
                default="", max_length=1000, source="searched_text"
            ),
        ),
        migrations.AddField(
            model_name="employee",
            name="sort_name",
            field=oxytrack.org.models.FoldedField(
                db_index=True, default="", max_length=200, source="shown_name"
            ),
        ),
        migrations.AddField(
            model_name="service",
            name="sort_name",
            field=oxytrack.org.models.FoldedField(default="", max_length=100, source="name"),
        ),
        migrations.RunPython(fill_folded_names, migrations.RunPython.noop, elidable=True),
    ]
