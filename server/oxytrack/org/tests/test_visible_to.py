"""Employee.objects.visible_to(user): who sees whom, for every role and scope shape."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxytrack.accounts.models import Role, Scope, User
from oxytrack.conftest import PASSWORD, Org
from oxytrack.org.models import Employee

pytestmark = pytest.mark.django_db


def visible(user: User | AnonymousUser) -> set[str]:
    return set(Employee.objects.visible_to(user).values_list("username", flat=True))  # type: ignore[arg-type]


ALL = {
    "nice_facturation",
    "nice_logistique",
    "marseille_facturation",
    "marseille_logistique",
    "fdf_facturation",
    "fdf_logistique",
    "nowhere",
    "nice_no_service",
}


def test_superadmin_sees_everyone_including_employees_without_agency(superadmin: User, org: Org):
    assert visible(superadmin) == ALL


def test_admin_with_one_agency_service_scope_sees_only_that_pair(alice: User):
    assert visible(alice) == {"nice_facturation"}


def test_scope_without_service_covers_the_whole_agency(bob: User):
    # Including the Nice employee who has no service yet.
    assert visible(bob) == {"nice_facturation", "nice_logistique", "nice_no_service"}


def test_admin_of_an_overseas_agency_sees_only_it(carol: User):
    assert visible(carol) == {"fdf_facturation"}


def test_admin_with_two_scopes_sees_their_union(alice: User, org: Org):
    Scope.objects.create(user=alice, agency=org.marseille, service=org.logistique)
    assert visible(alice) == {"nice_facturation", "marseille_logistique"}


def test_whole_agency_scope_plus_service_scope_elsewhere(bob: User, org: Org):
    Scope.objects.create(user=bob, agency=org.fdf, service=org.facturation)
    assert visible(bob) == {
        "nice_facturation",
        "nice_logistique",
        "nice_no_service",
        "fdf_facturation",
    }


def test_overlapping_scopes_do_not_duplicate_rows(bob: User, org: Org):
    Scope.objects.create(user=bob, agency=org.nice, service=org.facturation)
    names = list(Employee.objects.visible_to(bob).values_list("username", flat=True))
    assert sorted(names) == sorted(set(names))
    assert len(names) == 3


def test_service_scope_does_not_show_same_service_in_other_agencies(alice: User):
    assert "marseille_facturation" not in visible(alice)
    assert "fdf_facturation" not in visible(alice)


def test_admin_without_scope_sees_nobody(org: Org):
    lonely = User.objects.create_user("lonely@example.com", PASSWORD, role=Role.ADMIN)
    assert visible(lonely) == set()


def test_inactive_users_see_nobody(alice: User, superadmin: User):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    superadmin.is_active = False
    superadmin.save(update_fields=["is_active"])
    assert visible(alice) == set()
    assert visible(superadmin) == set()


def test_anonymous_sees_nobody(org: Org):
    assert visible(AnonymousUser()) == set()


def test_removing_a_scope_hides_its_employees(alice: User):
    alice.scopes.all().delete()
    assert visible(alice) == set()


def test_transferred_employee_leaves_and_enters_scopes(alice: User, carol: User, org: Org):
    employee = org.employees["nice_facturation"]
    employee.agency = org.fdf
    employee.save(update_fields=["agency"])
    assert "nice_facturation" not in visible(alice)
    assert "nice_facturation" in visible(carol)


def test_scope_of_another_admin_does_not_leak(alice: User, bob: User):
    # bob's whole-agency scope must not widen alice's view.
    assert visible(alice) == {"nice_facturation"}


def test_it_is_one_query_and_chains_with_filters(bob: User, org: Org, django_assert_num_queries):
    Scope.objects.create(user=bob, agency=org.fdf, service=org.facturation)
    with django_assert_num_queries(1):
        names = list(
            Employee.objects.visible_to(bob)
            .filter(service=org.facturation)
            .values_list("username", flat=True)
        )
    assert sorted(names) == ["fdf_facturation", "nice_facturation"]


AGENCY_KEYS = ["nice", "marseille", "fdf"]
SERVICE_KEYS = [None, "facturation", "logistique"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scopes=st.sets(st.tuples(st.sampled_from(AGENCY_KEYS), st.sampled_from(SERVICE_KEYS))))
def test_any_set_of_scopes_matches_the_rule(org: Org, scopes: set[tuple[str, str | None]]):
    """Whatever the scopes, an employee is visible iff some scope covers them."""
    user = User.objects.create_user(
        f"random{len(scopes)}-{abs(hash(frozenset(scopes)))}@example.com", role=Role.ADMIN
    )
    try:
        for agency_key, service_key in scopes:
            Scope.objects.create(
                user=user,
                agency=getattr(org, agency_key),
                service=getattr(org, service_key) if service_key else None,
            )
        expected = set()
        for employee in Employee.objects.select_related("agency", "service"):
            for agency_key, service_key in scopes:
                agency = getattr(org, agency_key)
                service = getattr(org, service_key) if service_key else None
                if employee.agency_id == agency.pk and (
                    service is None or employee.service_id == service.pk
                ):
                    expected.add(employee.username)
        assert visible(user) == expected
    finally:
        user.delete()


def test_the_dpo_sees_nobody_even_with_a_scope(dpo: User, org: Org):
    # Scopes say whose activity an admin sees; the dpo sees no activity at all.
    Scope.objects.create(user=dpo, agency=org.nice, service=None)
    assert visible(dpo) == set()


def test_every_role_shape_is_covered():
    # Guard: a new role must be added to these tests deliberately.
    assert set(Role.values) == {"admin", "superadmin", "dpo"}
