"""U+0000 in any API input is a 422 naming the field, never a database error.

PostgreSQL cannot store the NUL character in a text column: a query filter or a JSON field
holding it made the database raise (a 500; schemathesis found it). Django's form fields refuse
it for the web. For the API, query strings are checked by ``NulRefusingParser`` (ninja's parser,
used for every operation with query parameters) and JSON bodies by ``RefuseNulMiddleware``
(ninja turns any exception in its body parser into a bare 400 that names no field).
"""

from __future__ import annotations

from ninja.errors import ValidationError
from ninja.parser import Parser

MESSAGE = "must not contain the NUL character (U+0000)"
MAX_ERRORS = 20


def nul_fields(value, path: list) -> list[list]:
    """The paths of the strings in ``value`` (parsed JSON) that hold U+0000."""
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        return [f for key, item in value.items() for f in nul_fields(item, [*path, key])]
    if isinstance(value, list):
        return [f for i, item in enumerate(value) for f in nul_fields(item, [*path, i])]
    return []


class NulRefusingParser(Parser):
    def parse_querydict(self, data, list_fields, request):
        result = super().parse_querydict(data, list_fields, request)
        paths = nul_fields(result, ["query"])
        if paths:
            raise ValidationError([{"loc": p, "msg": MESSAGE} for p in paths[:MAX_ERRORS]])
        return result
