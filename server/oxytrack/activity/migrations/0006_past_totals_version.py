"""PastTotalsVersion moves from the dashboard to activity, its table unchanged."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("activity", "0005_hourly_totals"),
        ("dashboard", "0001_past_totals_version"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PastTotalsVersion",
                    fields=[
                        ("id", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                        ("token", models.BigIntegerField()),
                    ],
                    options={"db_table": "dashboard_pasttotalsversion"},
                ),
            ],
            database_operations=[],
        ),
    ]
