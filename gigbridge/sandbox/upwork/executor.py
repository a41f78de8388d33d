"""Upwork's GraphQL, executed by graphql-core against the schema generated from the reference.

``gigbridge/integrations/upwork/reference/schema.graphql`` (``scripts/gen_upwork_schema.py``,
from Upwork's documented operations and types) is built once. A request is parsed, validated
and executed by graphql-core: an unknown field, a wrong argument or variable type, a missing
required argument or an input field Upwork does not document is answered with ``errors`` and
no ``data`` (HTTP 200), as a GraphQL server answers.

Root fields are resolved by ``api.RESOLVERS`` (``Resolver(function, scope)``), called as
``function(context, **arguments)`` with the arguments graphql-core coerced; a root field of the
schema the sandbox does not serve, or a scope the app lacks, is an ``UpworkError``. Below the
root every field reads its key from the dict its parent resolved to, calling it first when it
is a callable (heavy parts are computed only when selected); a key the sandbox does not model is
null. Selections, aliases, fragments and output coercion (scalars, enums by name, non-null) are
graphql-core's; output fields are nullable (``schema``).

An ``UpworkError`` becomes an entry of ``errors`` with ``extensions.code`` and its field null.
Any other exception in a resolver is a bug of the sandbox: it is raised again after execution
(a 500 with a traceback, as before) instead of hiding in ``errors``.
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    build_schema,
    execute_sync,
    parse,
    validate,
)

SCHEMA = ("gigbridge.integrations.upwork", "reference/schema.graphql")


class UpworkError(Exception):
    """An error of one field: reported in ``errors`` (with its code), the field resolves to null."""

    def __init__(self, message: str, code: str = "BAD_REQUEST"):
        super().__init__(message)
        self.message, self.code = message, code

    @property
    def extensions(self) -> dict:
        """What graphql-core copies into the error's ``extensions``."""
        return {"code": self.code}


@dataclass
class Context:
    user: Any  # models.ClientUser
    organization: Any  # models.Organization
    app: Any  # models.App
    scopes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Resolver:
    function: Callable[..., Any]
    scope: str


@dataclass
class _Request:
    """graphql-core's context value: the caller, the root resolvers, the first bug met."""

    context: Context
    resolvers: dict[str, Resolver]
    bug: Exception | None = None


@functools.cache
def schema() -> GraphQLSchema:
    """The generated schema, built once per process, with every output field made nullable.

    Inputs stay exactly as documented: they judge what clients send. Outputs are what the
    sandbox can answer, and it does not model everything Upwork's objects hold (a company's
    staff, a profile's education, a room's recruiters...). Upwork's own documents select such
    fields, and a non-null field answered with null would null its parent and fail the whole
    request; the sandbox answers null instead, or ``[]`` for a list Upwork promises
    (``EMPTY_LISTS``), as the hand-written executor did before graphql-core's."""
    package, name = SCHEMA
    built = build_schema(importlib.resources.files(package).joinpath(name).read_text("utf-8"))
    for named in built.type_map.values():
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for field_name, output in named.fields.items():
            if isinstance(output.type, GraphQLNonNull) and isinstance(
                output.type.of_type, GraphQLList
            ):
                EMPTY_LISTS.add((named.name, field_name))
            output.type = _nullable(output.type)
    return built


# (type, field) of every output list the schema declares non-null: answered [] when unmodelled.
EMPTY_LISTS: set[tuple[str, str]] = set()


def _nullable(kind: Any) -> Any:
    """``kind`` without any non-null wrapper, also inside lists (``[X!]!`` → ``[X]``)."""
    if isinstance(kind, GraphQLNonNull):
        return _nullable(kind.of_type)
    if isinstance(kind, GraphQLList):
        return GraphQLList(_nullable(kind.of_type))
    return kind


def execute(body: Any, context: Context, resolvers: dict[str, Resolver]) -> dict:
    """The GraphQL response (``data`` and/or ``errors``) for a request body."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return {"errors": [{"message": "Must provide query string."}]}
    variables = body.get("variables")
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        return {"errors": [{"message": "Variables must be provided as an object."}]}
    operation = body.get("operationName")
    if operation is not None and not isinstance(operation, str):
        return {"errors": [{"message": "operationName must be a string."}]}
    document, problems = _checked(body["query"])
    if problems:
        return {"errors": list(problems)}
    request = _Request(context, resolvers)
    # One transaction for the request, so what the lazy parts read after a root field's
    # resolver agrees with what it wrote; each root field also runs in a savepoint of its own
    # (``_root``): a field that fails leaves nothing behind, its siblings keep their effects.
    with transaction.atomic():
        result = execute_sync(
            schema(),
            document,
            context_value=request,
            variable_values=variables,
            operation_name=operation,
            field_resolver=_resolve,
        )
        if request.bug is not None:
            raise request.bug
    response: dict[str, Any] = {}
    if result.data is not None:  # None: refused before execution (variables, operation name)
        response["data"] = result.data
    if result.errors:
        response["errors"] = [error.formatted for error in result.errors]
    return response


@functools.lru_cache(maxsize=256)
def _checked(query: str) -> tuple[DocumentNode | None, list[dict]]:
    """The parsed document, or graphql-core's syntax or validation errors. Cached by text:
    validating a document of hundreds of fields against this schema takes graphql-core 20-40
    ms, and a client sends the same few documents over and over (the AST is only read)."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, [exc.formatted]
    return document, [problem.formatted for problem in validate(schema(), document)]


def _resolve(source: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
    request: _Request = info.context
    try:
        if info.path.prev is None:
            return _root(request, info.field_name, arguments)
        value = source.get(info.field_name)
        value = value() if callable(value) else value
        if value is None and (info.parent_type.name, info.field_name) in EMPTY_LISTS:
            return []
        return value
    except UpworkError:
        raise
    except Exception as exc:
        # graphql-core would turn it into an entry of ``errors``; a bug must not pass for
        # an answer. ``execute`` raises the first one once graphql-core is done.
        request.bug = request.bug or exc
        raise


def _root(request: _Request, name: str, arguments: dict) -> Any:
    resolver = request.resolvers.get(name)
    if resolver is None:
        raise UpworkError(
            f"{name} is documented by Upwork but not served by the sandbox.", "NOT_IMPLEMENTED"
        )
    if resolver.scope not in request.context.scopes:
        raise UpworkError(
            "The client or authentication token doesn't have enough oauth2 permissions/scopes "
            f"to access: [{name}]. Required scope: {resolver.scope}.",
            "FORBIDDEN",
        )
    with transaction.atomic():
        return resolver.function(request.context, **arguments)
