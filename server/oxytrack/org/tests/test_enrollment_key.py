"""`oxytrack enrollment_key [--rotate]`."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from oxytrack.audit.models import Action, Entry
from oxytrack.org.actions import get_enrollment_key
from oxytrack.org.models import EnrollmentKey

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("enrollment_key", *args, stdout=out)
    return out.getvalue().strip()


def test_it_prints_the_same_key_until_rotated() -> None:
    key = run()
    assert key.startswith("oxe_")
    assert len(key) >= 32
    assert run() == key == get_enrollment_key()
    assert not Entry.objects.exists()


def test_rotate_prints_a_new_key_that_replaces_the_old_and_is_audited() -> None:
    old = run()
    new = run("--rotate")
    assert new != old
    assert run() == new
    assert list(EnrollmentKey.objects.values_list("key", flat=True)) == [new]
    entry = Entry.objects.get()
    assert entry.action == Action.ROTATE_KEY
    assert entry.actor is None
    assert entry.actor_label == "système"
    # The key itself never goes to the audit log.
    assert new not in str(entry.detail) + entry.target_label
