"""Interning (app, title) pairs into Window rows."""

from __future__ import annotations

from collections.abc import Iterable

from oxytrack.activity.models import Window, window_digest

_CHUNK = 500  # stays under SQLite's bound-parameter limit


def intern_windows(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The Window id of each (app, title), creating the missing rows.

    Safe under concurrent uploads: creation ignores conflicts, then reads back.
    """
    by_digest = {window_digest(app, title): (app, title) for app, title in set(pairs)}
    ids: dict[tuple[str, str], int] = {}
    digests = list(by_digest)

    def read(keys: list[str]) -> None:
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            for pk, digest in Window.objects.filter(digest__in=chunk).values_list("pk", "digest"):
                ids[by_digest[digest]] = pk

    read(digests)
    missing = [digest for digest in digests if by_digest[digest] not in ids]
    if missing:
        Window.objects.bulk_create(
            [Window(app=by_digest[d][0], title=by_digest[d][1], digest=d) for d in missing],
            batch_size=_CHUNK,
            ignore_conflicts=True,
        )
        read(missing)
    return ids
