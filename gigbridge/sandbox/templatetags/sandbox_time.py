"""``{{ value|when }}``: the one date format of the sandbox's pages (a builtin there).

A moment reads ``2027-01-15 10:00 UTC`` (the sandbox runs on UTC, and says so); a bare date
``2027-01-15``; anything else, an empty string. Like the product's ``moment`` filter, with the
zone written out, since the sandbox's pages sit beside the product's.
"""

from __future__ import annotations

import datetime as dt

from django import template

register = template.Library()


@register.filter
def when(value) -> str:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    return ""
