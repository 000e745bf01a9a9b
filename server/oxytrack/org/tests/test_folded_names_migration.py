"""Migration 0003 fills the folded name columns of the rows that were already there."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("org", "0002_employee_display_name_locked")]
AFTER = [("org", "0003_folded_names")]


@pytest.mark.django_db(transaction=True)
def test_existing_employees_agencies_and_services_get_their_folded_names() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    agency = old.get_model("org", "Agency").objects.create(name="Orléans")
    old.get_model("org", "Service").objects.create(name="Comptabilité")
    employee_model = old.get_model("org", "Employee")
    employee_model.objects.create(username="frederic.leroy", domain="CORP", agency=agency)
    employee_model.objects.create(username="cdupont", display_name="Cédric Dupont")
    try:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        rows = new.get_model("org", "Employee").objects.order_by("sort_name")
        assert list(rows.values_list("sort_name", "search_name")) == [
            ("cedric dupont", "cedric dupont\ncdupont\ncdupont"),
            ("corp\\frederic.leroy", "\nfrederic.leroy\ncorp\\frederic.leroy"),
        ]
        assert new.get_model("org", "Agency").objects.get().sort_name == "orleans"
        assert new.get_model("org", "Service").objects.get().sort_name == "comptabilite"
    finally:
        # Back to the latest schema for the tests that follow.
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
