"""The one way pages and mails show money and time (a builtin: no ``{% load %}`` needed).

``{{ amount|money:currency }}`` → ``12,345.00 EUR``; ``{{ day|day }}`` → ``2026-12-03``;
``{{ moment|moment }}`` → ``2026-12-03 14:05`` in the program's time zone (settings.TIME_ZONE).
Mail contexts hold strings (the outbox stores JSON), so each filter also takes the string form.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone

register = template.Library()

DAY_FORMAT = "%Y-%m-%d"
MOMENT_FORMAT = "%Y-%m-%d %H:%M"


@register.filter
def money(value, currency: str = "") -> str:
    """Two decimals, thousands separated by commas, then the currency code."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    text = f"{amount.quantize(Decimal('0.01')):,.2f}"
    return f"{text} {currency}" if currency else text


def _parse(value):
    if isinstance(value, str):
        try:
            return (
                dt.datetime.fromisoformat(value)
                if "T" in value or " " in value
                else (dt.date.fromisoformat(value))
            )
        except ValueError:
            return None
    return value


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


@register.filter
def day(value) -> str:
    """A date (or the program-local date of a moment) as YYYY-MM-DD."""
    value = _parse(value)
    if isinstance(value, dt.datetime):
        return _local(value).strftime(DAY_FORMAT)
    if isinstance(value, dt.date):
        return value.strftime(DAY_FORMAT)
    return ""


@register.filter
def month(value) -> str:
    """A month (any date in it) as YYYY-MM: the one date format without its day."""
    value = _parse(value)
    if isinstance(value, dt.datetime):
        value = _local(value)
    return value.strftime("%Y-%m") if isinstance(value, dt.date) else ""


@register.filter
def moment(value) -> str:
    """A moment as YYYY-MM-DD HH:MM in the program's time zone; a bare date as its day."""
    value = _parse(value)
    if isinstance(value, dt.datetime):
        return _local(value).strftime(MOMENT_FORMAT)
    if isinstance(value, dt.date):
        return value.strftime(DAY_FORMAT)
    return ""
