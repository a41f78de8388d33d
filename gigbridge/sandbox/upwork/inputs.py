"""Checking the input objects and filters that requests send.

Each is declared as a dict of field name -> kind; a field outside it, a wrong kind or a missing
required field is an ``UpworkError`` naming the type and the field. See ``api`` for the lists.
``documented(type)`` builds that dict from Upwork's documented input type (the generated
``reference/schema.graphql``): every documented field is accepted, the ones the sandbox models
with their kind, the others as given (accepted, not modelled), and nothing else.

Where two names for the same thing are accepted (the connector's and the sandbox's first guess,
see ``api``), both are declared and ``either`` picks the one given; giving both is an error.

Money (kind ``money``) is ``{rawValue: "1500.00", currency: "USD"}`` (Upwork's Money type;
``displayValue`` is allowed and ignored, ``amount`` is accepted for ``rawValue``) or a plain
number or decimal string; the currency, when given, must be USD. Other fields of a Money object
are errors naming them.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLInputObjectType, GraphQLNonNull, Undefined

from .executor import UpworkError, schema

# Kinds: "str", "int", "num", "money", "bool", "date", "datetime", "list", "obj", "any" (as
# given); "!" suffix: required.
MONEY_FIELDS = {"rawValue": "any", "amount": "any", "currency": "str", "displayValue": "str"}


def documented(type_name: str, **modelled: str) -> dict[str, str]:
    """The fields of Upwork's documented input type ``type_name`` for ``check``: those in
    ``modelled`` with their kind, every other one as given ("any"). A field the reference marks
    non-null with no default is required ("!"). Modelling an undocumented field is a bug."""
    found = schema().get_type(type_name)
    if not isinstance(found, GraphQLInputObjectType):
        raise LookupError(f"{type_name} is not a documented input type")
    unknown = set(modelled) - set(found.fields)
    if unknown:
        raise LookupError(f"{type_name} documents no {', '.join(sorted(unknown))}")
    fields = {}
    for name, field in found.fields.items():
        kind = modelled.get(name, "any").rstrip("!")
        # build_schema keeps an SDL default (``= []``) on the field's AST node only.
        default = field.default_value is not Undefined or (
            field.ast_node is not None and field.ast_node.default_value is not None
        )
        required = isinstance(field.type, GraphQLNonNull) and not default
        fields[name] = kind + ("!" if required or modelled.get(name, "").endswith("!") else "")
    return fields


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
                return money(value, where)
            return Decimal(str(value))
        if kind == "money":
            return money(value, where)
        if kind == "any":
            return value
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


def money(value: Any, where: str) -> Decimal:
    """An amount: a Money object (see the module docstring) or a number; -> its Decimal."""
    if isinstance(value, dict):
        found = check(value, where, MONEY_FIELDS)
        currency = found["currency"]
        if currency is not None and currency.upper() != "USD":
            raise UpworkError(f'Field "{where}.currency" must be USD, not {currency!r}.')
        raw = either(found, where, "rawValue", "amount", required=True)
        where, value = f"{where}.rawValue", raw
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise UpworkError(f'Field "{where}" has an invalid value: {value!r}.')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise UpworkError(f'Field "{where}" has an invalid value: {value!r}.') from None
    if not amount.is_finite():
        raise UpworkError(f'Field "{where}" has an invalid value: {value!r}.')
    return amount


def money_cents(value: Any, where: str) -> Decimal:
    """A ``MoneyInput`` whose field documents the lowest currency denominations (offer rates,
    budgets and milestones): ``{amount: "4912", currency: "USD"}`` is 49.12; -> the Decimal."""
    found = check(value, "MoneyInput", documented("MoneyInput", amount="str!", currency="str!"))
    if not found["amount"].isdigit():
        raise UpworkError(
            f'Field "{where}.amount" must be whole cents as a string, not {found["amount"]!r}.'
        )
    if found["currency"].upper() != "USD":
        raise UpworkError(f'Field "{where}.currency" must be USD, not {found["currency"]!r}.')
    return Decimal(int(found["amount"])) / 100


def either(found: dict, type_name: str, *names: str, required: bool = False) -> Any:
    """The value of whichever of ``names`` (alternative names of one field) was given."""
    given = [name for name in names if found.get(name) is not None]
    if len(given) > 1:
        raise UpworkError(
            f'Fields "{type_name}.{given[0]}" and "{type_name}.{given[1]}" are alternatives: '
            "give one."
        )
    if not given:
        if required:
            alternatives = " or ".join(f'"{type_name}.{name}"' for name in names)
            raise UpworkError(f"Field {alternatives} of required type is missing (or null).")
        return None
    return found[given[0]]


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
