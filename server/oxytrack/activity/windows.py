"""Interning (app, title) pairs into Window rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection

from oxytrack.activity.models import Window, window_digest

_CHUNK = 500  # stays under SQLite's bound-parameter limit


def intern_windows(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The Window id of each (app, title), creating the missing rows.

    Safe under concurrent uploads: creation ignores conflicts, then reads back
    what another transaction created meanwhile. Plain SQL rather than the ORM:
    an upload interns hundreds of windows while it holds the write lock.
    """
    by_digest = {window_digest(app, title): (app, title) for app, title in set(pairs)}
    ids: dict[tuple[str, str], int] = {}
    if not by_digest:
        return ids
    quote = connection.ops.quote_name
    table = quote(Window._meta.db_table)
    returning = connection.features.can_return_rows_from_bulk_insert

    with connection.cursor() as cursor:

        def collect(rows: Iterable[tuple[Any, ...]]) -> None:
            for pk, digest in rows:
                ids[by_digest[digest]] = pk

        def read(keys: list[str]) -> None:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                cursor.execute(
                    f"SELECT {quote('id')}, {quote('digest')} FROM {table} "  # noqa: S608 (names only)
                    f"WHERE {quote('digest')} IN ({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
                collect(cursor.fetchall())

        read(list(by_digest))
        missing = [digest for digest, pair in by_digest.items() if pair not in ids]
        for start in range(0, len(missing), _CHUNK // 3):
            chunk = missing[start : start + _CHUNK // 3]
            params: list[str] = []
            for digest in chunk:
                params += [*by_digest[digest], digest]
            cursor.execute(
                f"INSERT INTO {table} ({quote('app')}, {quote('title')}, {quote('digest')}) "  # noqa: S608
                f"VALUES {', '.join(['(%s, %s, %s)'] * len(chunk))} "
                f"ON CONFLICT ({quote('digest')}) DO NOTHING"
                + (f" RETURNING {quote('id')}, {quote('digest')}" if returning else ""),
                params,
            )
            if returning:
                collect(cursor.fetchall())
        # Created by a concurrent transaction (conflict), or no RETURNING support.
        read([digest for digest in missing if by_digest[digest] not in ids])
    return ids
