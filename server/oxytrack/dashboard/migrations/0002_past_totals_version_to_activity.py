"""PastTotalsVersion moves to activity (activity 0006): forgotten here, its table kept."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0001_past_totals_version"),
        ("activity", "0006_past_totals_version"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="PastTotalsVersion")],
            database_operations=[],
        ),
    ]
