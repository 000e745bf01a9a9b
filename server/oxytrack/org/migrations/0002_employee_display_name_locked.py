from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def lock_names_set_by_hand(apps: Apps, _schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Before this migration enrollment never set a name: any name there was
    # typed by the super-admin (or the demo seeder), so agents must keep off it.
    Employee = apps.get_model("org", "Employee")
    Employee.objects.exclude(display_name="").update(display_name_locked=True)


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="employee",
            name="display_name_locked",
            field=models.BooleanField(
                default=False, verbose_name="nom fixé par le super-administrateur"
            ),
        ),
        migrations.RunPython(lock_names_set_by_hand, migrations.RunPython.noop),
    ]
