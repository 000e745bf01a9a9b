"""How durations are written on the pages."""

from __future__ import annotations


def format_duration(ms: int | None) -> str:
    """`2 h 05 min`, `7 min`, `0 min` — minutes are enough for a manager's reading.

    Written the same in French and English (h and min are international units).
    """
    minutes = round((ms or 0) / 60000)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"
