"""Months: the grain of every rollup. A month is the date of its first day; event times are
placed in the month of their UTC date (the same in Python and in both databases' SQL)."""

from __future__ import annotations

import datetime as dt


def month_of(value: dt.date | dt.datetime | None) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        value = value.date()
    return value.replace(day=1)


def epoch_seconds(value: dt.datetime) -> int:
    """Whole seconds since 1970 (fractions dropped), as SQLite's strftime('%s') and
    PostgreSQL's EXTRACT(EPOCH FROM date_trunc('second', ...)) compute them."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() // 1)


def seconds_between(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return epoch_seconds(end) - epoch_seconds(start)


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every month from ``start``'s to ``end``'s, both included."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return months
