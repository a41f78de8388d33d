"""The one source of "now" for business logic, so tests can move time without sleeping."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

_override: dt.datetime | None = None


def now() -> dt.datetime:
    return _override if _override is not None else timezone.now()


def today() -> dt.date:
    return timezone.localdate(now())


def set_now(value: dt.datetime | None) -> None:
    """Freeze the clock at ``value`` (None returns to real time). For tests and simulations."""
    global _override
    _override = value
