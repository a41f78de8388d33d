"""A small GraphQL executor over Upwork's documented operations (no schema exists to use).

A request is parsed with graphql-core, its root fields looked up among the documented
operations (``gigbridge.integrations.upwork.conformance``), and its selections judged against
their documented field trees: anything outside them is a GraphQL error with ``locations`` and
``path`` (HTTP 200, no data), as a GraphQL server answers a validation error. Each root field is
then resolved by ``api.RESOLVERS`` to plain Python dicts, and the selection set is projected
onto them: aliases and fragments apply, a documented field the sandbox does not model is null,
and dict values that are callables are computed only when selected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from graphql import GraphQLError, Undefined, parse, print_ast, value_from_ast_untyped
from graphql.language import FieldNode, OperationDefinitionNode

from gigbridge.integrations.upwork import conformance
from gigbridge.integrations.upwork.conformance import Problem, Tree


class UpworkError(Exception):
    """An error of one root field: reported in ``errors``, the field resolves to null."""

    def __init__(self, message: str, code: str = "BAD_REQUEST"):
        super().__init__(message)
        self.message, self.code = message, code


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


def _error(message: str, nodes=(), path=None, code: str | None = None) -> dict:
    problem = Problem(message, list(nodes), list(path or []))
    body: dict = {"message": message}
    locations = problem.locations()
    if locations:
        body["locations"] = locations
    if path:
        body["path"] = list(path)
    if code:
        body["extensions"] = {"code": code}
    return body


def execute(body: Any, context: Context, resolvers: dict[str, Resolver]) -> dict:
    """The GraphQL response (``data`` and/or ``errors``) for a request body."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return {"errors": [_error("Must provide query string.")]}
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        return {"errors": [_error("Variables must be provided as an object.")]}
    try:
        document = parse(body["query"])
    except GraphQLError as exc:
        return {"errors": [exc.formatted]}
    operation, problem = _pick(document, body.get("operationName"))
    if operation is None:
        return {"errors": [_error(problem)]}
    fragments = conformance.fragments_of(document)
    try:
        values = _variables(operation, variables)
    except UpworkError as exc:
        return {"errors": [_error(exc.message)]}
    kind = operation.operation.value
    problems: list[Problem] = []
    roots = conformance.collect_fields(operation.selection_set, fragments, problems)
    documented = {}
    for root in roots:
        found = conformance.documented_root(kind, root.name.value)
        if found is None or root.name.value not in resolvers:
            type_name = "Mutation" if kind == "mutation" else "Query"
            problems.append(
                Problem(f'Cannot query field "{root.name.value}" on type "{type_name}".', [root])
            )
            continue
        documented[root.name.value] = found
        problems += conformance.root_problems(found, root, fragments)
    if problems:
        return {"errors": [_error(p.message, p.nodes, p.path) for p in problems]}
    data: dict[str, Any] = {}
    errors: list[dict] = []
    for root in roots:
        key = root.alias.value if root.alias else root.name.value
        resolver = resolvers[root.name.value]
        if resolver.scope not in context.scopes:
            errors.append(_scope_error(root, key, resolver.scope))
            data[key] = None
            continue
        arguments = {}
        for argument in root.arguments or ():
            value = value_from_ast_untyped(argument.value, values)
            if value is not Undefined:  # a variable that was not sent: as if not given
                arguments[argument.name.value] = value
        try:
            with transaction.atomic():
                value = resolver.function(context, **arguments)
                data[key] = project(value, root, documented[root.name.value].tree, fragments)
        except UpworkError as exc:
            errors.append(_error(exc.message, [root], [key], exc.code))
            data[key] = None
    result: dict[str, Any] = {"data": data}
    if errors:
        result["errors"] = errors
    return result


def _scope_error(root: FieldNode, key: str, scope: str) -> dict:
    message = (
        "The client or authentication token doesn't have enough oauth2 permissions/scopes to "
        f"access: [{root.name.value}]. Required scope: {scope}."
    )
    return _error(message, [root], [key], "FORBIDDEN")


def _pick(document, name) -> tuple[OperationDefinitionNode | None, str]:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        for operation in operations:
            if operation.name and operation.name.value == name:
                return operation, ""
        return None, f'Unknown operation named "{name}".'
    if len(operations) != 1:
        return None, "Must provide operation name if query contains multiple operations."
    return operations[0], ""


def _variables(operation: OperationDefinitionNode, given: dict) -> dict:
    values = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name in given:
            values[name] = given[name]
        elif definition.default_value is not None:
            values[name] = value_from_ast_untyped(definition.default_value)
        elif print_ast(definition.type).endswith("!"):
            raise UpworkError(
                f'Variable "${name}" of required type "{print_ast(definition.type)}" was not '
                "provided."
            )
    return values


def project(value: Any, node: FieldNode, tree: Tree | None, fragments) -> Any:
    """``value`` cut down to ``node``'s selection (aliases as keys), null where unmodelled."""
    if callable(value):
        value = value()
    if tree is None or value is None:
        return value
    if isinstance(value, list | tuple):
        return [project(item, node, tree, fragments) for item in value]
    out: dict[str, Any] = {}
    for child in conformance.collect_fields(node.selection_set, fragments):
        name = child.name.value
        key = child.alias.value if child.alias else name
        if name == "__typename":
            out[key] = value.get("__typename", "Object")
            continue
        projected = project(value.get(name), child, tree[name], fragments)
        if isinstance(out.get(key), dict) and isinstance(projected, dict):
            out[key] = {**out[key], **projected}  # the same field selected twice: merged
        else:
            out[key] = projected
    return out
