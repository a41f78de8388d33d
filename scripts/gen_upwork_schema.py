#!/usr/bin/env python3
"""Generate the GraphQL schema (SDL) of the part of Upwork's API that Gigbridge uses.

Upwork publishes no SDL. The reference (``../shared/reference/upwork/`` relative to the repository
root) has its documented operations with their variables and full field trees
(``operations.graphql``) and its 642 documented types, input objects included, as TypeScript
interfaces with doc comments (``types.ts``). From the operations listed in
``scripts/gen_upwork_subset.py`` this builds:

- ``type Query`` and ``type Mutation``: one field per operation, its arguments typed as the
  operation declares the variables passed to them, its type the ``types.ts`` object whose fields
  fit the operation's whole selection tree (or a pin in the overrides file);
- every object type those trees reach, with the fields the trees select, typed from ``types.ts``;
- every input object the arguments reach, with all of its documented fields;
- every enum and scalar reached. The scrape has no enum values: see the overrides file.

Assumptions where the scrape is lossy live in
``gigbridge/integrations/upwork/reference/schema_overrides.py`` (commented). The output,
``gigbridge/integrations/upwork/reference/schema.graphql``, is committed; a test fails when it
drifts from the reference.

    python scripts/gen_upwork_schema.py                # regenerate the committed file
    python scripts/gen_upwork_schema.py --check        # exit 1 when the committed file is stale
    python scripts/gen_upwork_schema.py --output -     # print instead of writing
    python scripts/gen_upwork_schema.py --reference DIR   # another ../shared/reference/upwork

Needs graphql-core (a dependency of Gigbridge) to parse the operations and to prove the result
builds and that every operation of the subset validates against it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from graphql import GraphQLSchema, TypeInfo, TypeInfoVisitor, build_schema, parse, validate
from graphql.language import (
    REMOVE,
    DocumentNode,
    FieldNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeNode,
    Visitor,
    visit,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE = REPO_ROOT.parent / "shared" / "reference" / "upwork"
REFERENCE_DIR = REPO_ROOT / "gigbridge" / "integrations" / "upwork" / "reference"
DEFAULT_OUTPUT = REFERENCE_DIR / "schema.graphql"
OVERRIDES_PATH = REFERENCE_DIR / "schema_overrides.py"
SUBSET_SCRIPT = Path(__file__).resolve().parent / "gen_upwork_subset.py"

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}
ENUM_NOTE = "An enum in Upwork's schema; the scrape has no values, so any value is accepted here."


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- types.ts -------------------------------------------------------------------------------------


@dataclass
class TsField:
    name: str
    optional: bool
    type: str  # "string", "number", "boolean", "Money", "Array<string>", "Array<Money>"
    doc: str


@dataclass
class TsType:
    name: str
    doc: str
    fields: dict[str, TsField] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Enums (the scrape has no values) and scalars appear as empty interfaces."""
        return not self.fields


_INTERFACE = re.compile(
    r"(?:/\*\*(?P<doc>(?:(?!\*/).)*?)\*/\s*)?"
    r"export interface (?P<name>\w+) \{(?P<body>\}|\n.*?^\})",
    re.S | re.M,
)
_FIELD = re.compile(
    r"/\*\*(?P<doc>.*?)\*/|^[ \t]*(?P<name>\w+)(?P<opt>\??): (?P<type>[^\n]+)$", re.S | re.M
)


def _doc(raw: str | None) -> str:
    if not raw:
        return ""
    return "\n".join(line.strip() for line in raw.strip().splitlines() if line.strip())


def parse_types(text: str) -> dict[str, TsType]:
    found: dict[str, TsType] = {}
    for match in _INTERFACE.finditer(text):
        ts = TsType(match["name"], _doc(match["doc"]))
        body = match["body"][:-1]
        doc = None
        for fm in _FIELD.finditer(body):
            if fm["name"] is None:
                doc = fm["doc"]
                continue
            ts.fields[fm["name"]] = TsField(
                fm["name"], fm["opt"] == "?", fm["type"].strip(), _doc(doc)
            )
            doc = None
        found[ts.name] = ts
    return found


def _unwrap(ts_type: str) -> tuple[bool, str]:
    match = re.fullmatch(r"Array<(.+)>", ts_type)
    return (True, match.group(1)) if match else (False, ts_type)


# -- the generator ------------------------------------------------------------------------------


@dataclass
class Built:
    sha256: dict[str, str]
    roots: dict[str, list[str]]  # "Query"/"Mutation" -> field lines
    objects: dict[str, dict[str, str]] = field(default_factory=dict)  # type -> field -> SDL type
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    scalars: set[str] = field(default_factory=set)  # custom scalars (Map, enums without values)
    enums: set[str] = field(default_factory=set)  # enums with assumed values (overrides)
    operations: list[str] = field(default_factory=list)
    floats: list[str] = field(default_factory=list)  # Type.field given Float for a TS number


class Generator:
    def __init__(self, types: dict[str, TsType], overrides: ModuleType):
        self.types = types
        self.o = overrides
        self.objects: dict[str, dict[str, str]] = {}
        self.inputs: dict[str, dict[str, str]] = {}
        self.scalars: set[str] = set()
        self.enums: set[str] = set()
        self.floats: list[str] = []
        self.dropped: set[str] = set()  # SCRAPED_ARGUMENTS met in the trees
        self.suspects: set[str] = set()  # input-typed fields not yet in SCRAPED_ARGUMENTS

    # leaves and numbers

    def _leaf(self, name: str, owner: str) -> str:
        """A named type that is not an object: built-in, custom scalar or enum."""
        name = self.o.TYPE_NAMES.get(name, name)
        if name in BUILT_IN:
            return name
        ts = self.types.get(name)
        if ts is None:
            raise SystemExit(f"{owner}: type {name} is not in types.ts")
        if not ts.empty:
            raise SystemExit(f"{owner}: {name} is an object, used as a leaf")
        if name in self.o.ENUM_VALUES:
            self.enums.add(name)
        else:
            self.scalars.add(name)
        return name

    def _number(self, owner: str, ts_field: TsField) -> str:
        key = f"{owner}.{ts_field.name}"
        if key in self.o.NUMBER_TYPES:
            kind = self.o.NUMBER_TYPES[key]
        elif re.search(self.o.FLOAT_NAME, ts_field.name) or re.search(
            self.o.FLOAT_DOC, ts_field.doc
        ):
            kind = "Float"
        else:
            kind = "Int"
        if kind == "Float":
            self.floats.append(key)
        return kind

    def _sdl_type(self, owner: str, ts_field: TsField, inner: str) -> str:
        is_list, base = _unwrap(ts_field.type)
        key = f"{owner}.{ts_field.name}"
        if base == "string":
            named = "String"
        elif base == "boolean":
            named = "Boolean"
        elif base == "number":
            named = self._number(owner, ts_field)
        else:
            named = inner
        text = f"[{named}!]" if is_list else named
        optional = ts_field.optional or key in self.o.OPTIONAL_FIELDS
        return text if optional else f"{text}!"

    # objects, from the selection trees

    def fits(self, type_name: str, selection: SelectionSetNode) -> bool:
        ts = self.types.get(type_name)
        if ts is None or ts.empty:
            return False
        for node in selection.selections:
            if not isinstance(node, FieldNode):
                return False
            ts_field = ts.fields.get(node.name.value)
            if ts_field is None:
                return False
            _, base = _unwrap(ts_field.type)
            if node.selection_set is not None:
                if not self.fits(base, node.selection_set):
                    return False
            elif base in self.types and not self.types[base].empty:
                return False
        return True

    def add_object(self, type_name: str, selection: SelectionSetNode, path: str) -> None:
        ts = self.types[type_name]
        fields = self.objects.setdefault(type_name, {})
        for node in selection.selections:
            name = node.name.value
            ts_field = ts.fields.get(name)
            if ts_field is None:
                raise SystemExit(f"{path}.{name}: not a field of {type_name} in types.ts")
            _, base = _unwrap(ts_field.type)
            if f"{type_name}.{name}" in self.o.SCRAPED_ARGUMENTS:
                self.dropped.add(f"{type_name}.{name}")
                continue
            if base in self.inputs or re.search(self.o.INPUT_NAME, base):
                self.suspects.add(f"{type_name}.{name}: {base}")
                continue
            if node.selection_set is not None:
                if base not in self.types or self.types[base].empty:
                    raise SystemExit(f"{path}.{name}: {base} is not an object in types.ts")
                self.add_object(base, node.selection_set, f"{path}.{name}")
                inner = base
            elif base in ("string", "number", "boolean"):
                inner = base
            else:
                inner = self._leaf(base, f"{type_name}.{name}")
            fields[name] = self._sdl_type(type_name, ts_field, inner)

    # input objects, whole

    def add_input(self, type_name: str, owner: str) -> str:
        type_name = self.o.TYPE_NAMES.get(type_name, type_name)
        if type_name in BUILT_IN:
            return type_name
        ts = self.types.get(type_name)
        if ts is None:
            raise SystemExit(f"{owner}: input type {type_name} is not in types.ts")
        if ts.empty:
            return self._leaf(type_name, owner)
        if type_name in self.objects:
            raise SystemExit(f"{owner}: {type_name} is used both as an object and an input")
        if type_name in self.inputs:
            return type_name
        fields: dict[str, str] = {}
        self.inputs[type_name] = fields  # before the fields: inputs may refer to themselves
        for name, ts_field in ts.fields.items():
            _, base = _unwrap(ts_field.type)
            if base in ("string", "number", "boolean"):
                inner = base
            else:
                inner = self.add_input(base, f"{type_name}.{name}")
            fields[name] = self._sdl_type(type_name, ts_field, inner) + self._default(ts_field)
        return type_name

    def _default(self, ts_field: TsField) -> str:
        """`` = []`` for a list the scrape marks required (LIST_DEFAULT), or the doc's
        ``Default = value`` for a required field: required, but it may be left out."""
        if ts_field.optional:
            return ""
        match = re.search(r"Default = (true|false|\[\]|-?\d+)(?![\w.])", ts_field.doc)
        if match:
            return f" = {match.group(1)}"
        if ts_field.type.startswith("Array<") and self.o.LIST_DEFAULT is not None:
            return f" = {self.o.LIST_DEFAULT}"
        return ""

    def argument_type(self, node: TypeNode, owner: str) -> str:
        if isinstance(node, NonNullTypeNode):
            return self.argument_type(node.type, owner) + "!"
        if isinstance(node, ListTypeNode):
            return f"[{self.argument_type(node.type, owner)}]"
        assert isinstance(node, NamedTypeNode)
        return self.add_input(node.name.value, owner)

    def root_arguments(self, operation: OperationDefinitionNode) -> str:
        """``(id: String!, date: String)``: the variables' declared types, inputs added."""
        (root,) = operation.selection_set.selections
        variables = {v.variable.name.value: v.type for v in operation.variable_definitions or ()}
        arguments = []
        for argument in root.arguments or ():
            owner = f"{operation.name.value}({argument.name.value})"
            sdl = self.argument_type(variables[argument.value.name.value], owner)
            arguments.append(f"{argument.name.value}: {sdl}")
        return f"({', '.join(arguments)})" if arguments else ""

    def root_result(self, operation: OperationDefinitionNode) -> str:
        """The root field's type; object types along its selection tree are added."""
        name = operation.name.value
        (root,) = operation.selection_set.selections
        field_name = root.name.value
        if root.selection_set is None:
            if field_name not in self.o.LEAF_ROOTS:
                raise SystemExit(
                    f"{name}: {field_name} selects nothing; say its type in LEAF_ROOTS"
                )
            return self.o.LEAF_ROOTS[field_name]
        result = self.root_type(name, field_name, root.selection_set)
        self.add_object(result, root.selection_set, field_name)
        return result

    def root_type(self, operation: str, field_name: str, selection: SelectionSetNode) -> str:
        pinned = self.o.ROOT_TYPES.get(field_name)
        if pinned is not None:
            if not self.fits(pinned, selection):
                raise SystemExit(f"{operation}: pinned type {pinned} does not fit its tree")
            return pinned
        fitting = sorted(n for n in self.types if self.fits(n, selection))
        guess = field_name[0].upper() + field_name[1:]
        if guess in fitting:
            return guess
        if len(fitting) == 1:
            return fitting[0]
        raise SystemExit(
            f"{operation}: {field_name}'s type is ambiguous ({', '.join(fitting) or 'none fits'});"
            " pin it in ROOT_TYPES"
        )


def load_operations(reference: Path) -> tuple[list[str], dict[str, str]]:
    subset = _load(SUBSET_SCRIPT, "gen_upwork_subset")
    text = (reference / "operations.graphql").read_text(encoding="utf-8")
    found = subset.split_operations(text)
    missing = [name for name in subset.OPERATIONS if name not in found]
    if missing:
        raise SystemExit(f"not in operations.graphql: {', '.join(missing)}")
    ordered = [name for name in found if name in subset.OPERATIONS]
    return ordered, {name: found[name] for name in ordered}


def normalize_operation(
    text: str, schema: GraphQLSchema, overrides: ModuleType | None = None
) -> DocumentNode:
    """A reference operation as the schema can judge it: the scrape's lowercase type names fixed
    (``[string]``) and the scraped arguments (``SCRAPED_ARGUMENTS``) taken out of its tree."""
    overrides = overrides or load_overrides()
    for wrong, right in overrides.TYPE_NAMES.items():
        text = re.sub(rf"(?<=[:\[\s]){re.escape(wrong)}(?=[\]!,)\s])", right, text)
    document = parse(text)
    type_info = TypeInfo(schema)

    class DropScrapedArguments(Visitor):
        def enter_field(self, node: FieldNode, *_args):
            parent = type_info.get_parent_type()
            if (
                parent is not None
                and f"{parent.name}.{node.name.value}" in overrides.SCRAPED_ARGUMENTS
            ):
                return REMOVE
            return None

    return visit(document, TypeInfoVisitor(type_info, DropScrapedArguments()))


def load_overrides(path: Path = OVERRIDES_PATH) -> ModuleType:
    return _load(path, "upwork_schema_overrides")


def build(reference: Path = DEFAULT_REFERENCE, overrides_path: Path = OVERRIDES_PATH) -> Built:
    overrides = load_overrides(overrides_path)
    sha = {}
    for name in ("operations.graphql", "types.ts"):
        sha[f"upwork/{name}"] = hashlib.sha256((reference / name).read_bytes()).hexdigest()
    types = parse_types((reference / "types.ts").read_text(encoding="utf-8"))
    names, operations = load_operations(reference)
    generator = Generator(types, overrides)
    parsed = {}
    for name in names:
        (operation,) = parse(operations[name], no_location=True).definitions
        parsed[name] = (operation, generator.root_arguments(operation))  # inputs first
    roots: dict[str, list[str]] = {"Query": [], "Mutation": []}
    seen: dict[str, str] = {}
    for name, (operation, arguments) in parsed.items():
        root = "Query" if operation.operation.value == "query" else "Mutation"
        field_name = operation.selection_set.selections[0].name.value
        if field_name in seen:
            raise SystemExit(f"{name}: {field_name} already defined by {seen[field_name]}")
        seen[field_name] = name
        result = generator.root_result(operation)
        roots[root].append(
            f'  "Documented operation: {name}."\n  {field_name}{arguments}: {result}'
        )
    if generator.suspects:
        raise SystemExit(
            "fields whose type is an input (scraped arguments?), list them in SCRAPED_ARGUMENTS:\n"
            + "\n".join(sorted(generator.suspects))
        )
    unused = set(overrides.SCRAPED_ARGUMENTS) - generator.dropped
    if unused:
        raise SystemExit(f"SCRAPED_ARGUMENTS not met in the trees: {', '.join(sorted(unused))}")
    return Built(
        sha256=sha,
        roots=roots,
        objects=generator.objects,
        inputs=generator.inputs,
        scalars=generator.scalars,
        enums=generator.enums,
        operations=names,
        floats=sorted(set(generator.floats)),
    )


# -- SDL ----------------------------------------------------------------------------------------


def _description(text: str, indent: str = "") -> str:
    if not text:
        return ""
    text = text.replace('"""', '\\"""')
    if "\n" not in text and not text.endswith(('"', "\\")):
        return f'{indent}"""{text}"""\n'
    body = "\n".join(f"{indent}{line}" for line in text.splitlines())
    return f'{indent}"""\n{body}\n{indent}"""\n'


def render(built: Built, types: dict[str, TsType], overrides: ModuleType) -> str:
    counts = (
        f"{len(built.objects)} object types, {len(built.inputs)} input types, "
        f"{len(built.enums)} enums with values, "
        f"{len(built.scalars - set(overrides.CUSTOM_SCALARS))} enums as scalars (values unknown), "
        f"{len(built.scalars & set(overrides.CUSTOM_SCALARS))} custom scalars"
    )
    lines = [
        "# Upwork GraphQL schema: the part Gigbridge uses, from Upwork's documented operations",
        "# and types.",
        *(f"# Source: ../shared/reference/{k} sha256 {v}" for k, v in built.sha256.items()),
        "# Generated by scripts/gen_upwork_schema.py; do not edit. Assumptions where the scrape is",
        "# lossy (enum values, [string], root types, Int or Float): reference/schema_overrides.py.",
        f"# Operations ({len(built.operations)}): {', '.join(built.operations)}",
        f"# Types: {counts}",
        "",
    ]
    out = "\n".join(lines) + "\n"
    for root in ("Query", "Mutation"):
        out += f"type {root} {{\n" + "\n".join(built.roots[root]) + "\n}\n\n"

    def doc_of(name: str) -> str:
        return types[name].doc if name in types else ""

    blocks = []
    for name in sorted(set(built.objects) | set(built.inputs) | built.scalars | built.enums):
        doc = doc_of(name)
        if name in built.scalars and name not in overrides.CUSTOM_SCALARS:
            doc = (doc + "\n" if doc else "") + ENUM_NOTE
        block = _description(doc)
        if name in built.objects or name in built.inputs:
            kind = "type" if name in built.objects else "input"
            fields = built.objects.get(name) or built.inputs[name]
            block += f"{kind} {name} {{\n"
            for field_name, sdl in fields.items():
                block += _description(types[name].fields[field_name].doc, "  ")
                block += f"  {field_name}: {sdl}\n"
            block += "}\n"
        elif name in built.enums:
            values = overrides.ENUM_VALUES[name]
            block += f"enum {name} {{\n" + "".join(f"  {v}\n" for v in values) + "}\n"
        else:
            block += f"scalar {name}\n"
        blocks.append(block)
    return out + "\n".join(blocks)


def generate(reference: Path = DEFAULT_REFERENCE, overrides_path: Path = OVERRIDES_PATH) -> str:
    """The schema's text; raises SystemExit when it does not build or an operation is invalid."""
    overrides = load_overrides(overrides_path)
    built = build(reference, overrides_path)
    types = parse_types((reference / "types.ts").read_text(encoding="utf-8"))
    text = render(built, types, overrides)
    schema = build_schema(text)
    _, operations = load_operations(reference)
    for name, operation in operations.items():
        errors = validate(schema, normalize_operation(operation, schema, overrides))
        if errors:
            raise SystemExit(f"{name} does not validate: {'; '.join(e.message for e in errors)}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="file, or - for stdout")
    parser.add_argument("--check", action="store_true", help="exit 1 if the output is stale")
    args = parser.parse_args(argv)
    for name in ("operations.graphql", "types.ts"):
        if not (args.reference / name).is_file():
            print(f"reference not found: {args.reference / name}", file=sys.stderr)
            return 2
    text = generate(args.reference)
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    output = Path(args.output)
    if args.check:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != text:
            print(f"{output} is stale: run python scripts/gen_upwork_schema.py", file=sys.stderr)
            return 1
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output} ({len(text)} characters)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
