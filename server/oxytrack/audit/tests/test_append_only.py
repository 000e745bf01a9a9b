"""The audit log only grows: no update or delete through the models, and the
retention purge is the one documented way to remove old entries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.audit.actions import record
from oxytrack.audit.models import Action, AppendOnly, Entry, purge_entries_before


@pytest.fixture
def entry(superadmin: User) -> Entry:
    return record(Action.ROTATE_KEY, actor=superadmin, detail={"why": "test"})


def _unchanged(entry: Entry) -> None:
    stored = Entry.objects.get(pk=entry.pk)
    assert (stored.action, stored.detail, stored.actor_label) == (
        Action.ROTATE_KEY,
        {"why": "test"},
        entry.actor_label,
    )


def test_saving_a_stored_entry_again_is_refused(entry: Entry) -> None:
    entry.action = Action.LOGIN
    entry.detail = {"why": "rewritten"}
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.save(update_fields=["action"])
    entry.refresh_from_db()
    _unchanged(entry)


def test_a_copy_with_the_same_id_cannot_overwrite(entry: Entry) -> None:
    copy = Entry(pk=entry.pk, action=Action.LOGIN, actor_label="x")
    # Always an insert: the stored row's id makes the database refuse it.
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()
    _unchanged(entry)


def test_deleting_an_entry_is_refused(entry: Entry) -> None:
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        Entry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnly):
        Entry.objects.all().delete()
    _unchanged(entry)


def test_bulk_updates_are_refused(entry: Entry) -> None:
    with pytest.raises(AppendOnly):
        Entry.objects.filter(pk=entry.pk).update(action=Action.LOGIN)
    entry.action = Action.LOGIN
    with pytest.raises(AppendOnly):
        Entry.objects.bulk_update([entry], ["action"])
    _unchanged(entry)


def test_deleting_the_actor_keeps_the_entry_with_their_email(
    entry: Entry, superadmin: User, alice: User
) -> None:
    own = record(Action.EXPORT, actor=alice)
    alice.delete()
    stored = Entry.objects.get(pk=own.pk)
    assert stored.actor is None and stored.actor_label == "alice@example.com"
    assert Entry.objects.count() == 2


def test_the_purge_deletes_only_entries_before_the_cutoff(superadmin: User) -> None:
    now = timezone.now()
    old = [record(Action.LOGIN, actor=superadmin) for _ in range(5)]
    Entry._base_manager.filter(pk__in=[e.pk for e in old]).update(at=now - timedelta(days=400))
    recent = record(Action.LOGOUT, actor=superadmin)
    assert purge_entries_before(now - timedelta(days=365), batch_size=2) == 5
    assert list(Entry.objects.values_list("pk", flat=True)) == [recent.pk]
    assert purge_entries_before(now - timedelta(days=365)) == 0
