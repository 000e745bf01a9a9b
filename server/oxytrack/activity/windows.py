"""Interning (app, title) pairs into Window rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import connection

from oxytrack.activity.bulk import insert_rows, rows_per_statement
from oxytrack.activity.models import Window, window_digest


def intern_windows(
    pairs: Iterable[tuple[str, str]], digests: Mapping[tuple[str, str], str] | None = None
) -> dict[tuple[str, str], int]:
    """The Window id of each (app, title), creating the missing rows.

    `digests` may hold precomputed `window_digest`s (the ingest computes them
    before taking the write lock). Creation comes first, since interned
    pairs are usually new ones, and ignores conflicts; then what already
    existed, or another transaction created meanwhile, is read back. Safe
    under concurrent uploads. Plain SQL rather than the ORM: an upload
    interns hundreds of windows while it holds the write lock.
    """
    known = digests or {}
    by_digest = {known.get(pair) or window_digest(*pair): pair for pair in dict.fromkeys(pairs)}
    ids: dict[tuple[str, str], int] = {}
    if not by_digest:
        return ids
    quote = connection.ops.quote_name
    table = quote(Window._meta.db_table)
    params: list[str] = []
    for digest, pair in by_digest.items():
        params += (*pair, digest)
    returning = connection.features.can_return_rows_from_bulk_insert
    created = insert_rows(
        f"INSERT INTO {table} ({quote('app')}, {quote('title')}, {quote('digest')})",
        3,
        params,
        f"ON CONFLICT ({quote('digest')}) DO NOTHING"
        + (f" RETURNING {quote('id')}, {quote('digest')}" if returning else ""),
        returning=returning,
    )
    for pk, digest in created:
        ids[by_digest[digest]] = pk
    # Already there (conflict), or no RETURNING support.
    missing = [digest for digest, pair in by_digest.items() if pair not in ids]
    step = rows_per_statement(1)
    with connection.cursor() as cursor:
        for start in range(0, len(missing), step):
            chunk = missing[start : start + step]
            cursor.execute(
                f"SELECT {quote('id')}, {quote('digest')} FROM {table} "  # noqa: S608 (names only)  # nosec B608  # our models' table and column names, quoted; the values bound as %s
                f"WHERE {quote('digest')} IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            for pk, digest in cursor.fetchall():
                ids[by_digest[digest]] = pk
    return ids
