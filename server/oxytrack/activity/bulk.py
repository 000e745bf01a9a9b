"""Multi-row statements for the write paths that handle thousands of rows at once.

An upload stores a thousand spans and hundreds of rollup and window rows
while it holds the write lock (SQLite has one writer). Two costs matter
there and Django's cursor adds both: a step per row (`executemany`), and,
on SQLite, rewriting every `%s` of a statement into `?` with a regular
expression, thousands per statement. So these statements are written with
the database's own placeholder, carry as many rows as the database allows,
and go straight to the DB-API cursor, with Django's error translation kept
(callers catch `django.db.IntegrityError` and `OperationalError`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from django.db import connection

# A ceiling on parameters per statement even where the database allows more:
# past a few thousand rows, bigger statements gain nothing.
_MAX_PARAMS = 30_000


def rows_per_statement(columns: int) -> int:
    """How many rows of `columns` parameters one statement may carry on this database.

    SQLite's real limit (32,766 since 3.32) rather than Django's cautious 999.
    """
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        getlimit = getattr(connection.connection, "getlimit", None)  # Python 3.11+
        limit = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit else 999
    else:
        limit = 65_535  # PostgreSQL's protocol limit
    return max(1, min(limit, _MAX_PARAMS) // columns)


@lru_cache(maxsize=128)
def values_sql(vendor: str, head: str, width: int, count: int, tail: str = "") -> str:
    """`head VALUES (…), (…) tail` for `count` rows of `width` placeholders of `vendor`."""
    mark = "?" if vendor == "sqlite" else "%s"
    row = "(" + ", ".join([mark] * width) + ")"
    return f"{head} VALUES {', '.join([row] * count)} {tail}".rstrip()


def chunk_sizes(rows: int, largest: int) -> Iterator[int]:
    """Rows per statement for `rows` rows: powers of two, largest first, none above `largest`.

    Parsing a statement of a thousand rows costs several times running it,
    and the row counts of uploads all differ: with a few fixed sizes, each
    statement is parsed once per connection and then taken from the
    connection's statement cache.
    """
    cap = 1 << (max(1, largest).bit_length() - 1)
    while rows > 0:
        size = min(cap, 1 << (rows.bit_length() - 1))
        yield size
        rows -= size


def insert_rows(
    head: str, width: int, params: Sequence[Any], tail: str = "", *, returning: bool = False
) -> list[tuple[Any, ...]]:
    """Run `head VALUES … tail` over flat `params` (`width` per row), in few statements.

    `head` and `tail` hold no placeholder. Returns the rows the statements
    return when `returning` (a RETURNING clause in `tail`).
    """
    vendor = connection.vendor
    returned: list[tuple[Any, ...]] = []
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = connection.connection.cursor()
        try:
            begin = 0
            for size in chunk_sizes(len(params) // width, rows_per_statement(width)):
                end = begin + size * width
                cursor.execute(values_sql(vendor, head, width, size, tail), params[begin:end])
                if returning:
                    returned += cursor.fetchall()
                begin = end
        finally:
            cursor.close()
    return returned
