"""When a process must rebuild its compiled rules and names: the Revision token.

Every change to Category or AppName (through the pages or straight through
the ORM, as tests and shells do) gives the Revision row a new random token
in the same transaction (signals below). A process checks the token before
using what it compiled: once per request inside a request (request_started
clears the check), at most once a second outside one (commands), since a
command may ask for thousands of names one by one.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import IntegrityError, transaction
from django.db.models.signals import post_delete, post_save

from oxytrack.categories import starter
from oxytrack.categories.models import AppName, Category, Revision

_local = threading.local()


def _new_token() -> str:
    return uuid.uuid4().hex


def seed(category_model: Any, name_model: Any, revision_model: Any) -> None:
    """Write the starter categories, the built-in names and the Revision row.

    Takes the model classes so the data migration can pass its historical ones.
    A table that already has rows is left as it is.
    """
    if not category_model.objects.exists():
        category_model.objects.bulk_create(
            category_model(
                name=c.name,
                colour=c.colour,
                app_pattern=c.app_pattern,
                title_pattern=c.title_pattern,
                order=i,
            )
            for i, c in enumerate(starter.STARTER_CATEGORIES, start=1)
        )
    if not name_model.objects.exists():
        name_model.objects.bulk_create(
            name_model(app=app, name=name) for app, name in starter.BUILTIN_APP_NAMES.items()
        )
    revision_model.objects.create(pk=1, token=_new_token())


def _seed_if_missing() -> str:
    """The token, seeding a database that has no Revision row (a flushed one)."""
    try:
        with transaction.atomic():
            if not Revision.objects.filter(pk=1).exists():
                seed(Category, AppName, Revision)
    except IntegrityError:
        pass  # another process seeded it first
    return str(Revision.objects.values_list("token", flat=True).get(pk=1))


#: Outside a request (commands, the weekly report), how long a read token is trusted.
OUTSIDE_REQUEST_S = 1.0


def current_token() -> str:
    """The Revision token, read once per request, or once a second outside requests.

    A change made by this process is seen at once either way (bump forgets
    the token); one made by another process, at the next request or second.
    """
    token = getattr(_local, "token", None)
    if token:
        if getattr(_local, "in_request", False):
            return str(token)
        if time.monotonic() - getattr(_local, "read_at", 0.0) < OUTSIDE_REQUEST_S:
            return str(token)
    token = Revision.objects.filter(pk=1).values_list("token", flat=True).first()
    if token is None:
        token = _seed_if_missing()
    _local.token = token
    _local.read_at = time.monotonic()
    return str(token)


def forget() -> None:
    """Forget the token read last, and any request left open (tests: a rolled-back
    database reuses tokens, and a streamed answer the test client never closed
    sends no request_finished)."""
    _local.token = None
    _local.in_request = False


def bump() -> None:
    """A new token: every process rebuilds at its next read."""
    if not Revision.objects.filter(pk=1).exists():
        # Keep a flushed database the same as a migrated one: starter set first.
        _seed_if_missing()
    Revision.objects.filter(pk=1).update(token=_new_token())
    _local.token = None


def _on_request_started(**_kwargs: Any) -> None:
    _local.in_request = True
    _local.token = None


def _on_request_finished(**_kwargs: Any) -> None:
    _local.in_request = False
    _local.token = None


def _on_change(**kwargs: Any) -> None:
    if kwargs.get("raw"):
        return  # loaddata: the fixture's own Revision row decides
    bump()


def connect() -> None:
    """Wire the signals (CategoriesConfig.ready)."""
    request_started.connect(_on_request_started, dispatch_uid="categories-request-started")
    request_finished.connect(_on_request_finished, dispatch_uid="categories-request-finished")
    for model in (Category, AppName):
        name = model.__name__
        post_save.connect(_on_change, sender=model, dispatch_uid=f"categories-save-{name}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"categories-delete-{name}")
