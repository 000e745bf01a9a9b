"""Multi-row statements: every row stored, in few statements of a few sizes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oxytrack.activity.bulk import chunk_sizes, rows_per_statement
from oxytrack.activity.models import Window
from oxytrack.activity.windows import intern_windows


@given(rows=st.integers(0, 50_000), largest=st.integers(1, 5_000))
def test_chunks_cover_every_row_in_powers_of_two(rows: int, largest: int) -> None:
    sizes = list(chunk_sizes(rows, largest))
    assert sum(sizes) == rows
    assert all(size & (size - 1) == 0 and size <= largest for size in sizes)
    assert sizes == sorted(sizes, reverse=True)
    # At most one statement of each size below the largest: few statements.
    cap = max(size for size in sizes) if sizes else 1
    assert len([s for s in sizes if s < cap]) <= cap.bit_length()


@pytest.mark.django_db
def test_statements_stay_within_the_database_limit() -> None:
    # 9 parameters per span row: SQLite allows 32,766 per statement, PostgreSQL 65,535.
    assert 1_000 <= rows_per_statement(9) * 9 <= 32_766


@pytest.mark.django_db
def test_more_rows_than_one_statement_carries_are_all_stored_and_returned() -> None:
    count = rows_per_statement(3) + 1_234  # several statements (3 parameters a window)
    pairs = [("chrome.exe", f"Onglet {n} — « recherche »") for n in range(count)]
    ids = intern_windows(pairs)
    assert len(ids) == count == len(set(ids.values())) == Window.objects.count()
    stored = dict(Window.objects.values_list("title", "pk"))
    assert all(stored[title] == ids[(app, title)] for app, title in pairs)
