"""Checking the input objects and filters that requests send (Upwork documents none of them).

Each is declared as a dict of field name -> kind; a field outside it, a wrong kind or a missing
required field is an ``UpworkError`` naming the type and the field. See ``api`` for the lists.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .executor import UpworkError

# Kinds: "str", "int", "num", "bool", "date", "datetime", "list", "obj"; "!" suffix: required.


def check(value: Any, type_name: str, fields: dict[str, str]) -> dict:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise UpworkError(f'Expected an input object of type "{type_name}".')
    for name in value:
        if name not in fields:
            known = ", ".join(f.rstrip("!") for f in fields) if fields else "none"
            raise UpworkError(
                f'Field "{name}" is not defined by type "{type_name}" (accepted: {known}).'
            )
    out = {}
    for name, kind in fields.items():
        required = kind.endswith("!")
        kind = kind.rstrip("!")
        given = value.get(name)
        if given is None:
            if required:
                raise UpworkError(
                    f'Field "{type_name}.{name}" of required type is missing (or null).'
                )
            out[name] = None
            continue
        out[name] = _convert(given, kind, f"{type_name}.{name}")
    return out


def _convert(value: Any, kind: str, where: str) -> Any:
    try:
        if kind == "str":
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise ValueError
            return str(value)
        if kind == "int":
            if isinstance(value, bool) or int(value) != float(value):
                raise ValueError
            return int(value)
        if kind == "num":
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, dict):  # a Money input: {"rawValue": "…", "currency": "USD"}
                value = value.get("rawValue", value.get("amount"))
            return Decimal(str(value))
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError
            return value
        if kind == "date":
            return parse_date(value)
        if kind == "datetime":
            return parse_datetime(value)
        if kind == "list":
            if not isinstance(value, list):
                raise ValueError
            return value
        if kind == "obj":
            if not isinstance(value, dict):
                raise ValueError
            return value
    except (ValueError, TypeError, InvalidOperation):
        pass
    raise UpworkError(f'Field "{where}" has an invalid value: {value!r}.')


def parse_date(value: Any) -> dt.date:
    """``YYYYMMDD`` (what Upwork's report filters use) or ``YYYY-MM-DD``."""
    text = str(value)
    if re.fullmatch(r"\d{8}", text):
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return dt.date.fromisoformat(text[:10])


def parse_datetime(value: Any) -> dt.datetime:
    """ISO 8601 (``Z`` or an offset; naive means UTC) or epoch milliseconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    text = str(value)
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text) / 1000, dt.UTC)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def date_range(value: Any, where: str) -> tuple[dt.date | None, dt.date | None]:
    """``{"rangeStart": …, "rangeEnd": …}``, both inclusive, either optional."""
    found = check(value, where, {"rangeStart": "date", "rangeEnd": "date"})
    return found["rangeStart"], found["rangeEnd"]


def datetime_range(value: Any, where: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    found = check(value, where, {"rangeStart": "datetime", "rangeEnd": "datetime"})
    return found["rangeStart"], found["rangeEnd"]


def pagination(value: Any, default: int = 50, most: int = 100) -> tuple[int, str | None]:
    found = check(value, "Pagination", {"first": "int", "after": "str"})
    first = found["first"] if found["first"] is not None else default
    if not 1 <= first <= most:
        raise UpworkError(f'Field "Pagination.first" must be between 1 and {most}.')
    return first, found["after"]
