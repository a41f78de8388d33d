"""Does a GraphQL document stay within what Upwork documents? ``problems(document)`` says.

Upwork publishes no schema, only documented operations, each with its arguments and its full
field tree. The operations Gigbridge uses are copied verbatim into
``reference/operations-subset.graphql`` (``scripts/gen_upwork_subset.py``); this module reads
that committed file, so it works in any clone, and judges a document by it:

- every operation is named after a documented operation of the same kind (query or mutation)
  and selects that operation's root field (and only it);
- the root field takes only documented arguments, and all the required ones;
- every selected field, through fragments and aliases, is in the documented tree at that place;
  leaves are not given selections and objects are.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from graphql import GraphQLError, parse, print_ast
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
)

SUBSET_PATH = Path(__file__).resolve().parent / "reference" / "operations-subset.graphql"

# A documented field tree: field name -> its subtree, or None for a leaf (a scalar or JSON).
Tree = dict[str, "Tree | None"]


@dataclass(frozen=True)
class Documented:
    """One documented operation: ``query ContractDetails { contractDetails(...) { … } }``."""

    name: str
    kind: str  # "query" or "mutation"
    root_field: str
    arguments: dict[str, str]  # argument name -> its documented type, e.g. "String!"
    tree: Tree | None  # None: the root field is itself a leaf (``withdrawOffer``)

    @property
    def required_arguments(self) -> list[str]:
        """Arguments whose documented variable type is non-null."""
        return [name for name, kind in self.arguments.items() if kind.endswith("!")]


@dataclass
class Problem:
    """Something outside the documented operations, with where it is."""

    message: str
    nodes: list[Node] = field(default_factory=list)
    path: list[str] = field(default_factory=list)


@functools.cache
def load_subset(path: Path = SUBSET_PATH) -> dict[str, Documented]:
    """The committed operations by name."""
    document = parse(path.read_text(encoding="utf-8"), no_location=True)
    found: dict[str, Documented] = {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode) or definition.name is None:
            continue
        variables = {
            v.variable.name.value: print_ast(v.type) for v in definition.variable_definitions or ()
        }
        (root,) = definition.selection_set.selections
        assert isinstance(root, FieldNode)
        arguments = {}
        for argument in root.arguments or ():
            value = argument.value
            variable = getattr(getattr(value, "name", None), "value", None)
            arguments[argument.name.value] = variables.get(variable, "")
        found[definition.name.value] = Documented(
            name=definition.name.value,
            kind=definition.operation.value,
            root_field=root.name.value,
            arguments=arguments,
            tree=_tree(root.selection_set),
        )
    return found


def _tree(selection_set: SelectionSetNode | None) -> Tree | None:
    if selection_set is None:
        return None
    return {
        node.name.value: _tree(node.selection_set)
        for node in selection_set.selections
        if isinstance(node, FieldNode)
    }


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def collect_fields(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    problems: list[Problem] | None = None,
    _seen: frozenset[str] = frozenset(),
) -> list[FieldNode]:
    """The fields of a selection set with fragment spreads and inline fragments flattened."""
    fields: list[FieldNode] = []
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            fields.append(node)
        elif isinstance(node, InlineFragmentNode):
            fields += collect_fields(node.selection_set, fragments, problems, _seen)
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            fragment = fragments.get(name)
            if fragment is None or name in _seen:
                if problems is not None:
                    why = "Unknown fragment" if fragment is None else "Cycle through fragment"
                    problems.append(Problem(f'{why} "{name}".', [node]))
                continue
            fields += collect_fields(fragment.selection_set, fragments, problems, _seen | {name})
    return fields


def selection_problems(
    tree: Tree | None,
    node: FieldNode,
    fragments: dict[str, FragmentDefinitionNode],
    path: list[str],
) -> list[Problem]:
    """What in ``node``'s selection leaves the documented ``tree`` of the field it selects."""
    where = ".".join(path) or node.name.value
    if tree is None:
        if node.selection_set is not None:
            return [
                Problem(
                    f'Field "{node.name.value}" must not have a selection since it has no '
                    "subfields.",
                    [node],
                    path,
                )
            ]
        return []
    if node.selection_set is None:
        return [
            Problem(f'Field "{node.name.value}" must have a selection of subfields.', [node], path)
        ]
    found: list[Problem] = []
    for child in collect_fields(node.selection_set, fragments, found):
        name = child.name.value
        key = child.alias.value if child.alias else name
        if name == "__typename":
            continue
        if child.arguments:
            found.append(
                Problem(f'Field "{where}.{name}" takes no arguments.', [child], [*path, key])
            )
        if name not in tree:
            found.append(
                Problem(
                    f'Cannot query field "{name}" on "{where}": it is not in Upwork\'s '
                    "documented field tree.",
                    [child],
                    [*path, key],
                )
            )
            continue
        found += selection_problems(tree[name], child, fragments, [*path, key])
    return found


def root_problems(
    documented: Documented, node: FieldNode, fragments: dict[str, FragmentDefinitionNode]
) -> list[Problem]:
    """Arguments and selection of a root field against its documented operation."""
    key = node.alias.value if node.alias else node.name.value
    found = []
    given = {argument.name.value for argument in node.arguments or ()}
    for name in sorted(given - documented.arguments.keys()):
        found.append(
            Problem(
                f'Unknown argument "{name}" on field "{documented.root_field}" '
                f"(documented: {', '.join(documented.arguments) or 'none'}).",
                [node],
                [key],
            )
        )
    for name in documented.required_arguments:
        if name not in given:
            found.append(
                Problem(
                    f'Field "{documented.root_field}" argument "{name}" of type '
                    f'"{documented.arguments[name]}" is required, but it was not provided.',
                    [node],
                    [key],
                )
            )
    return found + selection_problems(documented.tree, node, fragments, [key])


def problems(document: str) -> list[str]:
    """Everything in ``document`` that Upwork's documented operations do not allow."""
    try:
        parsed = parse(document)
    except GraphQLError as exc:
        return [f"syntax: {exc.message}"]
    fragments = fragments_of(parsed)
    subset = load_subset()
    found: list[str] = []
    for operation in parsed.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        kind = operation.operation.value
        if operation.name is None:
            found.append(f"an anonymous {kind}: name it after the documented operation")
            continue
        name = operation.name.value
        documented = subset.get(name)
        if documented is None or documented.kind != kind:
            found.append(f"{kind} {name}: not a documented {kind} (or not in the subset)")
            continue
        problems_here: list[Problem] = []
        roots = collect_fields(operation.selection_set, fragments, problems_here)
        if [r.name.value for r in roots] != [documented.root_field]:
            selected = ", ".join(r.name.value for r in roots) or "nothing"
            found.append(f"{name}: selects {selected}, documented: {documented.root_field}")
        for root in roots:
            if root.name.value == documented.root_field:
                problems_here += root_problems(documented, root, fragments)
        found += [f"{name}: {p.message}" for p in problems_here]
    return found
