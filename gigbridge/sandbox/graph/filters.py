"""``$filter`` as Graph reads it: a real OData v4 parse (``odata-query``), then a Django Q.

    q = filter_to_q("displayName eq 'Research and Development'", {"displayName": "display_name"},
                    resource="Group")

The expression is parsed whole (quoted strings with doubled quotes, parentheses, precedence of
``not`` / ``and`` / ``or``), then mapped onto the fields a resource declares: Graph name (matched
regardless of case, as Graph does) -> ORM field, or a callable ``(kind, value) -> Q`` for a
property that is not one column (``kind`` is ``"eq"``, ``"startswith"`` or ``"any"``).

What maps, per field:

- ``p eq v``, ``p ne v``, ``p in (v1, v2)``: strings compare case-insensitively (as Entra does);
  ``true``, ``false``, ``null`` and numbers compare exactly.
- ``startswith(p, 'x')`` (any case of the name, as Microsoft's docs write ``startsWith``).
- ``p/any(x: x eq 'v')`` (also ``Any``, ``x in (...)`` and ``or`` of those inside) on
  collection properties, which declare a callable.
- ``and``, ``or``, ``not``, parentheses.

On directory objects (users, groups) ``ne`` and ``not`` are Graph's "advanced queries": without
``ConsistencyLevel: eventual`` and ``$count=true`` they are 400 ``Request_UnsupportedQuery``
with Graph's message saying so.

Anything else is Graph's 400: a malformed expression is ``BadRequest`` "Invalid filter clause:
Syntax error at position N in '...'"; a property the resource does not filter on, or an
operator or function the emulator does not support, is ``Request_UnsupportedQuery`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import reduce

from django.db.models import Q
from odata_query import ast
from odata_query import exceptions as odata_errors
from odata_query.grammar import ODATA_FUNCTIONS, ODataLexer, ODataParser
from odata_query.roundtrip import AstToODataVisitor

from .errors import GraphError, bad_request, unsupported_query

Field = str | Callable[[str, object], Q]


def parse(text: str) -> ast._Node:
    """The AST of ``text``; GraphError 400 ``BadRequest`` when it is not OData v4 syntax."""
    try:
        tokens = _normalized(list(ODataLexer().tokenize(text)))
        return ODataParser().parse(iter(tokens))
    except odata_errors.TokenizingException as exc:
        raise _syntax(text, exc.token.index, "unrecognized text") from None
    except odata_errors.ParsingException as exc:
        if exc.eof or exc.token is None:
            raise _syntax(text, len(text), "the expression ends too early") from None
        raise _syntax(text, exc.token.index, "unexpected text") from None
    except odata_errors.FunctionCallException as exc:
        raise unsupported_query(f"Invalid filter clause: {exc}.".replace("..", ".")) from None
    except odata_errors.ODataException as exc:
        raise bad_request(f"Invalid filter clause: {exc}") from None


def _normalized(tokens: list) -> list:
    """Function names in any case (``startsWith``), as Graph accepts them."""
    for index, token in enumerate(tokens[:-1]):
        if (
            token.type == "ODATA_IDENTIFIER"
            and tokens[index + 1].type == "("
            and not token.value.namespace
            and token.value.name.lower() in ODATA_FUNCTIONS
        ):
            token.value = ast.Identifier(token.value.name.lower())
    return tokens


def _syntax(text: str, position: int, what: str) -> GraphError:
    near = text[position : position + 20]
    where = f" (near '{near}')" if near.strip() else ""
    return bad_request(
        f"Invalid filter clause: Syntax error at position {position} in '{text}': {what}{where}."
    )


def filter_to_q(
    text: str, fields: Mapping[str, Field], resource: str, *, advanced: bool = True
) -> Q:
    """A Q for the ``$filter`` expression ``text`` over ``fields`` (see the module docstring).

    ``advanced=False``: a directory request without ``ConsistencyLevel: eventual`` and
    ``$count=true``, where Graph refuses ``ne`` and ``not`` ("advanced queries")."""
    return _Translator(fields, resource, advanced).visit(parse(text))


def _needs_advanced(operator: str) -> GraphError:
    return unsupported_query(
        f"Operator '{operator}' is not supported because the required parameters might be "
        "missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. "
        "Refer to https://aka.ms/graph-docs/advanced-queries for more information"
    )


def _render(node: ast._Node) -> str:
    try:
        return AstToODataVisitor().visit(node)
    except Exception:  # noqa: BLE001 - only for a message
        return type(node).__name__


class _Translator:
    def __init__(self, fields: Mapping[str, Field], resource: str, advanced: bool):
        self.fields = {name.lower(): (name, orm) for name, orm in fields.items()}
        self.resource = resource
        self.advanced = advanced

    # -- errors ------------------------------------------------------------------------------

    def unsupported(self, node: ast._Node, why: str) -> GraphError:
        return unsupported_query(
            f"Unsupported query: {why} in filter clause '{_render(node)}' "
            f"of resource '{self.resource}'."
        )

    def unknown(self, name: str) -> GraphError:
        return unsupported_query(
            f"Unsupported or invalid query filter clause specified for "
            f"property '{name}' of resource '{self.resource}'."
        )

    # -- nodes -------------------------------------------------------------------------------

    def visit(self, node: ast._Node) -> Q:
        if isinstance(node, ast.BoolOp):
            left, right = self.visit(node.left), self.visit(node.right)
            return left & right if isinstance(node.op, ast.And) else left | right
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            if not self.advanced:
                raise _needs_advanced("not")
            return ~self.visit(node.operand)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.CollectionLambda):
            return self.collection(node)
        raise self.unsupported(node, "not a condition")

    def field(self, node: ast._Node, clause: ast._Node) -> tuple[str, Field]:
        name = _property_name(node)
        if name is None:
            raise self.unsupported(clause, "the left side must be a property")
        found = self.fields.get(name.lower())
        if found is None:
            raise self.unknown(name)
        return found

    def compare(self, node: ast.Compare) -> Q:
        name, orm = self.field(node.left, node)
        if isinstance(node.comparator, ast.In):
            if not isinstance(node.right, ast.List):
                raise self.unsupported(node, "'in' needs a list of values")
            values = [self.literal(item, node) for item in node.right.val]
            return _any_of([self.equal(name, orm, value, node) for value in values])
        if not isinstance(node.comparator, (ast.Eq, ast.NotEq)):
            operator = type(node.comparator).__name__.lower()
            raise self.unsupported(node, f"operator '{operator}' on property '{name}'")
        query = self.equal(name, orm, self.literal(node.right, node), node)
        if isinstance(node.comparator, ast.NotEq):
            if not self.advanced:
                raise _needs_advanced("ne")
            return ~query
        return query

    def equal(self, name: str, orm: Field, value: object, clause: ast._Node) -> Q:
        if callable(orm):
            return orm("eq", value)
        if isinstance(value, str):
            return Q(**{f"{orm}__iexact": value})
        if value is None:
            return Q(**{f"{orm}__isnull": True})
        return Q(**{orm: value})

    def call(self, node: ast.Call) -> Q:
        function = node.func.full_name().lower()
        if function != "startswith":
            raise self.unsupported(node, f"function '{node.func.full_name()}'")
        target, prefix = node.args
        name, orm = self.field(target, node)
        value = self.literal(prefix, node)
        if not isinstance(value, str):
            raise self.unsupported(node, "startswith needs a string")
        if callable(orm):
            return orm("startswith", value)
        return Q(**{f"{orm}__istartswith": value})

    def collection(self, node: ast.CollectionLambda) -> Q:
        name, orm = self.field(node.owner, node)
        if not isinstance(node.operator, ast.Any) or node.lambda_ is None:
            raise self.unsupported(node, f"only '{name}/any(x: x eq ...)' is supported")
        if not callable(orm):
            raise self.unsupported(node, f"'{name}' is not a collection")
        variable = node.lambda_.identifier.name
        values = self.lambda_values(node.lambda_.expression, variable, node)
        return _any_of([orm("any", value) for value in values])

    def lambda_values(self, node: ast._Node, variable: str, clause: ast._Node) -> list:
        """``x eq 'a'``, ``x in ('a','b')`` or ``x eq 'a' or x eq 'b'`` -> the values."""
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            return self.lambda_values(node.left, variable, clause) + self.lambda_values(
                node.right, variable, clause
            )
        if (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Identifier)
            and not node.left.namespace
            and node.left.name == variable
        ):
            if isinstance(node.comparator, ast.Eq):
                return [self.literal(node.right, clause)]
            if isinstance(node.comparator, ast.In) and isinstance(node.right, ast.List):
                return [self.literal(item, clause) for item in node.right.val]
        raise self.unsupported(clause, f"only '{variable} eq value' is supported inside any()")

    def literal(self, node: ast._Node, clause: ast._Node) -> object:
        if isinstance(node, (ast.String, ast.GUID)):
            return node.val
        if isinstance(node, ast.Boolean):
            return node.val.lower() == "true"
        if isinstance(node, ast.Null):
            return None
        if isinstance(node, ast.Integer):
            return int(node.val)
        raise self.unsupported(
            clause, "the right side must be a string, number, true, false or null"
        )


def _property_name(node: ast._Node) -> str | None:
    """``displayName``; ``microsoft.graph.aadUserConversationMember/userId`` (a cast)."""
    if isinstance(node, ast.Identifier):
        return ".".join([*node.namespace, node.name])
    if isinstance(node, ast.Attribute):
        owner = _property_name(node.owner)
        return None if owner is None else f"{owner}/{node.attr}"
    return None


def _any_of(queries: list[Q]) -> Q:
    return reduce(lambda a, b: a | b, queries) if queries else Q(pk__in=[])
