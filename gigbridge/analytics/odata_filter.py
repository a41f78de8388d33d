"""OData v4 ``$filter`` for the analytics feed: parsed by ``odata-query``, then either a Django
``Q`` (entity sets stored as tables: facts, rollups) or a Python predicate (the dashboard's
computed tables, which are a few hundred rows at most).

Both come from one small expression tree, so the two evaluate the same subset the same way
(OData v4.0 Part 2, 5.1.1):

- comparisons ``eq ne gt ge lt le`` and ``in (...)`` between a property and a literal (either
  side); ``null`` with ``eq``/``ne``;
- ``contains``, ``startswith``, ``endswith`` on string properties (case-sensitive, as the
  spec's functions are);
- ``and``, ``or``, ``not`` and parentheses.

Anything else (arithmetic, other functions, lambdas, property-to-property comparisons, a
literal of the wrong type for the property) is ``FilterError``, whose message names what is
wrong; the feed answers it as a 400 with ``target: "$filter"``.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from odata_query import ast
from odata_query import exceptions as odata_errors
from odata_query.grammar import ODataLexer, ODataParser

MAX_FILTER_LENGTH = 2000  # characters; a longer $filter is refused before it is parsed
MAX_DEPTH = 50  # nested conditions; deeper is refused (no recursion blow-up)


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class Prop:
    """What a filter needs of a property: its Edm type and, for stored sets, its ORM field."""

    edm: str  # "Edm.String" | "Edm.Int64" | "Edm.Decimal" | "Edm.Date" | ...
    field: str = ""  # the Django lookup (stored sets only)


# The tree both backends read: ("and"|"or", a, b), ("not", a), ("cmp", op, name, value),
# ("in", name, values), ("fn", function, name, text).
_COMPARE = {ast.Eq: "eq", ast.NotEq: "ne", ast.Gt: "gt", ast.GtE: "ge", ast.Lt: "lt", ast.LtE: "le"}
_FLIP = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
_STRING_FUNCTIONS = ("contains", "startswith", "endswith")


def parse(text: str, props: Mapping[str, Prop]) -> tuple:
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(f"$filter is longer than {MAX_FILTER_LENGTH} characters")
    if not text.strip():
        raise FilterError("$filter is empty")
    try:
        node = ODataParser().parse(ODataLexer().tokenize(text))
    except odata_errors.TokenizingException as exc:
        raise FilterError(f"$filter: unrecognized text at position {exc.token.index}") from None
    except odata_errors.ParsingException as exc:
        if exc.eof or exc.token is None:
            raise FilterError("$filter: the expression ends too early") from None
        raise FilterError(f"$filter: syntax error at position {exc.token.index}") from None
    except odata_errors.ODataException as exc:
        raise FilterError(f"$filter: {exc}") from None
    return _Builder(props).build(node, 0)


class _Builder:
    def __init__(self, props: Mapping[str, Prop]):
        self.props = props

    def build(self, node, depth: int) -> tuple:
        if depth > MAX_DEPTH:
            raise FilterError(f"$filter nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, ast.BoolOp):
            kind = "and" if isinstance(node.op, ast.And) else "or"
            return (kind, self.build(node.left, depth + 1), self.build(node.right, depth + 1))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ("not", self.build(node.operand, depth + 1))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise FilterError(f"$filter: {type(node).__name__} is not a supported condition")

    def name(self, node) -> str | None:
        if isinstance(node, ast.Identifier) and not node.namespace:
            if node.name not in self.props:
                raise FilterError(f"$filter: no property '{node.name}' in this entity set")
            return node.name
        return None

    def compare(self, node: ast.Compare) -> tuple:
        if isinstance(node.comparator, ast.In):
            name = self.name(node.left)
            if name is None or not isinstance(node.right, ast.List):
                raise FilterError("$filter: 'in' needs a property on the left and a list")
            if len(node.right.val) > 1000:
                raise FilterError("$filter: an 'in' list has more than 1000 values")
            return ("in", name, [self.literal(name, v) for v in node.right.val])
        op = _COMPARE[type(node.comparator)]
        left, right = self.name(node.left), self.name(node.right)
        if left is not None and right is None:
            return ("cmp", op, left, self.literal(left, node.right))
        if right is not None and left is None:
            return ("cmp", _FLIP[op], right, self.literal(right, node.left))
        raise FilterError(f"$filter: '{op}' compares a property with a literal value")

    def call(self, node: ast.Call) -> tuple:
        function = node.func.name
        if function not in _STRING_FUNCTIONS or len(node.args) != 2:
            raise FilterError(
                f"$filter: the function '{function}' is not supported "
                f"(supported: {', '.join(_STRING_FUNCTIONS)})"
            )
        name = self.name(node.args[0])
        if name is None or not isinstance(node.args[1], ast.String):
            raise FilterError(f"$filter: {function}(property, 'text') takes a property first")
        if self.props[name].edm != "Edm.String":
            raise FilterError(f"$filter: {function} needs a string property; '{name}' is not")
        return ("fn", function, name, node.args[1].val)

    def literal(self, name: str, node):
        edm = self.props[name].edm
        if isinstance(node, ast.Null):
            return None
        try:
            if edm == "Edm.String" and isinstance(node, ast.String):
                return node.val
            if edm == "Edm.Int64" and isinstance(node, ast.Integer):
                value = int(node.val)
                if abs(value) < 2**63:
                    return value
            if edm == "Edm.Decimal" and isinstance(node, ast.Integer | ast.Float):
                value = Decimal(node.val)
                if value.is_finite():
                    return value
            if edm == "Edm.Double" and isinstance(node, ast.Integer | ast.Float):
                return float(node.val)
            if edm == "Edm.Boolean" and isinstance(node, ast.Boolean):
                return node.val.lower() == "true"
            if edm == "Edm.Date" and isinstance(node, ast.Date):
                return dt.date.fromisoformat(node.val)
            if edm == "Edm.DateTimeOffset" and isinstance(node, ast.DateTime):
                value = dt.datetime.fromisoformat(node.val.replace("Z", "+00:00"))
                if value.tzinfo is not None:
                    return value
        except (ValueError, InvalidOperation):
            pass
        raise FilterError(f"$filter: '{name}' is {edm}; the value compared with it is not")


# -- backends --------------------------------------------------------------------------------


def to_q(tree: tuple, props: Mapping[str, Prop]) -> Q:
    kind = tree[0]
    if kind == "and":
        return to_q(tree[1], props) & to_q(tree[2], props)
    if kind == "or":
        return to_q(tree[1], props) | to_q(tree[2], props)
    if kind == "not":
        return ~to_q(tree[1], props)
    if kind == "in":
        field = props[tree[1]].field
        values = [v for v in tree[2] if v is not None]
        q = Q(**{f"{field}__in": values})
        return q | Q(**{f"{field}__isnull": True}) if None in tree[2] else q
    if kind == "fn":
        _, function, name, text = tree
        return Q(**{f"{props[name].field}__{function}": text})
    _, op, name, value = tree
    field = props[name].field
    if value is None:
        if op not in ("eq", "ne"):
            return Q(pk__in=[])  # null compares false (Part 2, 5.1.1.1)
        return Q(**{f"{field}__isnull": op == "eq"})
    if op == "eq":
        return Q(**{field: value})
    if op == "ne":
        return ~Q(**{field: value})  # Django keeps rows whose field is null: null ne 5 is true
    return Q(**{f"{field}__{_LOOKUPS[op]}": value})


_LOOKUPS = {"gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}
_PY = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}
_TEXT: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda value, text: text in value,
    "startswith": str.startswith,
    "endswith": str.endswith,
}


def to_predicate(tree: tuple) -> Callable[[Mapping], bool]:
    kind = tree[0]
    if kind in ("and", "or"):
        left, right = to_predicate(tree[1]), to_predicate(tree[2])
        if kind == "and":
            return lambda row: left(row) and right(row)
        return lambda row: left(row) or right(row)
    if kind == "not":
        inner = to_predicate(tree[1])
        return lambda row: not inner(row)
    if kind == "in":
        name, values = tree[1], tree[2]
        return lambda row: row.get(name) in values
    if kind == "fn":
        _, function, name, text = tree
        test = _TEXT[function]
        return lambda row: isinstance(row.get(name), str) and test(row[name], text)
    _, op, name, value = tree
    if op == "eq":
        return lambda row: row.get(name) == value
    if op == "ne":
        return lambda row: row.get(name) != value
    compare = _PY[op]
    # null compares false with gt/ge/lt/le, on either side (Part 2, 5.1.1.1).
    return lambda row: row.get(name) is not None and value is not None and compare(row[name], value)
