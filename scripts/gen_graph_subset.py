#!/usr/bin/env python3
"""Generate the part of Microsoft Graph v1.0's metadata that Gigbridge needs.

Reads Microsoft's OData description of Graph v1.0 (by default
``../shared/reference/msgraph/cleanMetadata-v1.0.xml``, relative to the repository root) and
writes ``gigbridge/integrations/msgraph/reference/graph-v1.0-subset.json``: the root types listed
below and their closure (base types, the types of their structural properties, recursively),
plus the bound actions Gigbridge calls with the closure of their parameter and return types.
Navigation properties are recorded by name and target type, but their targets are only included
when they are roots themselves.

The output is stable (sorted keys, fixed indentation, no timestamps), so regenerating from the
same reference gives the same bytes; a test checks that the committed file is up to date.

    python scripts/gen_graph_subset.py                 # regenerate the committed file
    python scripts/gen_graph_subset.py PATH/TO/cleanMetadata-v1.0.xml
    python scripts/gen_graph_subset.py --check         # exit 1 when the committed file is stale
    python scripts/gen_graph_subset.py --output -      # print instead of writing

Only the standard library is used, so this runs before the virtualenv exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import xml.etree.ElementTree as ET  # noqa: S405 - parses Microsoft's published metadata only
from collections import deque
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_ROOT = REPO_ROOT.parent / "shared" / "reference"
DEFAULT_SOURCE = REFERENCE_ROOT / "msgraph" / "cleanMetadata-v1.0.xml"
DEFAULT_OUTPUT = (
    REPO_ROOT / "gigbridge" / "integrations" / "msgraph" / "reference" / "graph-v1.0-subset.json"
)
SOURCE_LABEL = "msgraph/cleanMetadata-v1.0.xml"  # recorded relative to ../shared/reference/
GRAPH = "microsoft.graph"

# The types Gigbridge sends or receives (short names live in the microsoft.graph namespace).
ROOT_TYPES = [
    # Entra ID: guests and groups
    "directoryObject",
    "user",
    "invitation",
    "group",
    # Teams
    "team",
    "channel",
    "conversationMember",
    "aadUserConversationMember",
    "chatMessage",
    "teamsAsyncOperation",
    # Planner
    "plannerPlan",
    "plannerBucket",
    "plannerTask",
    "plannerTaskDetails",  # a task's description lives here (GET/PATCH /planner/tasks/{id}/details)
    "plannerAssignments",  # open type: user id -> plannerAssignment
    "plannerAssignment",
    "plannerChecklistItem",  # values of the open type plannerChecklistItems
    "plannerExternalReference",  # values of the open type plannerExternalReferences
    "plannerAssignedToTaskBoardTaskFormat",
    # SharePoint / OneDrive
    "site",
    "list",
    "drive",
    "driveItem",
    "permission",
    "uploadSession",
    "driveRecipient",
    "sharingInvitation",
    "driveItemVersion",  # GET /drives/{d}/items/{id}/versions (the sandbox keeps versions)
    # SharePoint site pages (the program hub published as a page: /sites/{id}/pages)
    "baseSitePage",
    "sitePage",
    "canvasLayout",
    "horizontalSection",
    "horizontalSectionColumn",
    "verticalSection",
    "webPart",
    "textWebPart",
    "standardWebPart",  # Graph's own create example has an image web part (webPartType, data)
    # Outlook mail
    "message",
    "itemBody",
    "recipient",
    "emailAddress",
    # Change notifications
    "subscription",
    "changeNotification",
    "changeNotificationCollection",
    # Shapes used inside the bodies above
    "invitedUserMessageInfo",
    "identitySet",
    "identity",
    # Derived types Graph puts in @odata.type of the bodies above
    "aadUserConversationMemberResult",  # items returned by conversationMember/add
    "teamworkUserIdentity",  # chatMessage.from.user
    "teamworkApplicationIdentity",  # chatMessage.from.application (bots)
]

# Bound actions: (action name, type its binding parameter is, or is a collection of).
ACTIONS = [
    ("invite", "driveItem"),
    ("createUploadSession", "driveItem"),
    ("sendMail", "user"),
    ("add", "conversationMember"),
    ("publish", "sitePage"),  # POST /sites/{s}/pages/{p}/microsoft.graph.sitePage/publish
]

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
OPTIONAL_PARAMETER = "Org.OData.Core.V1.OptionalParameter"


class MetadataError(Exception):
    """The reference does not contain what the subset needs."""


def _split_collection(type_ref: str) -> tuple[str, bool]:
    if type_ref.startswith("Collection(") and type_ref.endswith(")"):
        return type_ref[len("Collection(") : -1], True
    return type_ref, False


class Metadata:
    """An index of the schema elements in a CSDL document, by qualified name."""

    def __init__(self, root: ET.Element):
        self.aliases: dict[str, str] = {}
        self.types: dict[str, ET.Element] = {}
        self.actions: list[tuple[str, ET.Element]] = []
        schemas = list(root.iter(EDM + "Schema"))
        for schema in schemas:
            if schema.get("Alias"):
                self.aliases[schema.get("Alias")] = schema.get("Namespace")
        for schema in schemas:
            namespace = schema.get("Namespace")
            for element in schema:
                tag = element.tag.removeprefix(EDM)
                if tag in ("EntityType", "ComplexType", "EnumType"):
                    name = f"{namespace}.{element.get('Name')}"
                    if name in self.types:
                        raise MetadataError(f"type {name} is defined twice")
                    self.types[name] = element
                elif tag == "Action":
                    self.actions.append((namespace, element))

    def qualify(self, type_ref: str) -> str:
        """Write a type name with its namespace instead of the schema alias (graph.x)."""
        if type_ref.startswith("Edm."):
            return type_ref
        namespace, _, name = type_ref.rpartition(".")
        return f"{self.aliases.get(namespace, namespace)}.{name}"

    def type_ref(self, raw: str) -> tuple[str, bool]:
        element_type, collection = _split_collection(raw)
        return self.qualify(element_type), collection


def _flag(element: ET.Element, attribute: str, default: bool) -> bool:
    value = element.get(attribute)
    return default if value is None else value == "true"


def _describe_type(meta: Metadata, name: str) -> tuple[dict, list[str]]:
    """One type's entry in the subset, and the types it needs (base and property types)."""
    element = meta.types[name]
    kind = element.tag.removeprefix(EDM)
    needs: list[str] = []
    if kind == "EnumType":
        members = [member.get("Name") for member in element.iter(EDM + "Member")]
        return {"kind": "enum", "flags": _flag(element, "IsFlags", False), "members": members}, []
    base = meta.qualify(element.get("BaseType")) if element.get("BaseType") else None
    if base:
        needs.append(base)
    properties = {}
    for prop in element.findall(EDM + "Property"):
        type_name, collection = meta.type_ref(prop.get("Type"))
        properties[prop.get("Name")] = {
            "collection": collection,
            "nullable": _flag(prop, "Nullable", True),
            "type": type_name,
        }
        needs.append(type_name)
    navigation = {}
    for nav in element.findall(EDM + "NavigationProperty"):
        type_name, collection = meta.type_ref(nav.get("Type"))
        navigation[nav.get("Name")] = {
            "collection": collection,
            "contains_target": _flag(nav, "ContainsTarget", False),
            "type": type_name,
        }
    entry = {
        "abstract": _flag(element, "Abstract", False),
        "base": base,
        "kind": "entity" if kind == "EntityType" else "complex",
        "navigation": navigation,
        "open": _flag(element, "OpenType", False),
        "properties": properties,
    }
    return entry, needs


def _find_action(meta: Metadata, action_name: str, binding: str) -> tuple[str, ET.Element]:
    found = []
    for namespace, element in meta.actions:
        if element.get("Name") != action_name or element.get("IsBound") != "true":
            continue
        parameters = element.findall(EDM + "Parameter")
        if parameters and meta.type_ref(parameters[0].get("Type"))[0] == binding:
            found.append((namespace, element))
    if len(found) != 1:
        raise MetadataError(
            f"expected exactly one action {action_name} bound to {binding}, found {len(found)}"
        )
    return found[0]


def _describe_action(meta: Metadata, action_name: str, binding: str) -> tuple[str, dict, list]:
    namespace, element = _find_action(meta, action_name, binding)
    binding_param, *parameters = element.findall(EDM + "Parameter")
    binding_type, binding_collection = meta.type_ref(binding_param.get("Type"))
    needs = []
    params = {}
    for param in parameters:
        type_name, collection = meta.type_ref(param.get("Type"))
        optional = any(
            annotation.get("Term") == OPTIONAL_PARAMETER
            for annotation in param.findall(EDM + "Annotation")
        )
        params[param.get("Name")] = {
            "collection": collection,
            "nullable": _flag(param, "Nullable", True),
            "optional": optional,
            "type": type_name,
        }
        needs.append(type_name)
    returns = None
    return_element = element.find(EDM + "ReturnType")
    if return_element is not None:
        type_name, collection = meta.type_ref(return_element.get("Type"))
        returns = {
            "collection": collection,
            "nullable": _flag(return_element, "Nullable", True),
            "type": type_name,
        }
        needs.append(type_name)
    binding_key = f"Collection({binding_type})" if binding_collection else binding_type
    entry = {
        "binding": {"collection": binding_collection, "type": binding_type},
        "name": f"{namespace}.{action_name}",
        "parameters": params,
        "returns": returns,
    }
    return f"{binding_key}/{action_name}", entry, needs


def build_subset(source: Path) -> dict:
    """Parse the reference and return the subset as plain data."""
    data = source.read_bytes()
    meta = Metadata(ET.fromstring(data))  # noqa: S314 - trusted, checked-in reference file
    roots = [f"{GRAPH}.{name}" for name in ROOT_TYPES]
    missing = [name for name in roots if name not in meta.types]
    if missing:
        raise MetadataError(f"root types not in the reference: {', '.join(missing)}")

    actions = {}
    queue: deque[str] = deque(roots)
    for action_name, binding in ACTIONS:
        key, entry, needs = _describe_action(meta, action_name, f"{GRAPH}.{binding}")
        actions[key] = entry
        queue.extend(needs)

    types: dict[str, dict] = {}
    while queue:
        name = queue.popleft()
        if name.startswith("Edm.") or name in types:
            continue
        if name not in meta.types:
            raise MetadataError(f"type {name} is referenced but not defined in the reference")
        entry, needs = _describe_type(meta, name)
        types[name] = entry
        queue.extend(needs)

    return {
        "actions": actions,
        "generated_by": "scripts/gen_graph_subset.py (do not edit: regenerate)",
        "roots": sorted(roots),
        "source": {"file": SOURCE_LABEL, "sha256": hashlib.sha256(data).hexdigest()},
        "types": types,
    }


def render(subset: dict) -> str:
    return json.dumps(subset, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source",
        nargs="?",
        type=Path,
        default=DEFAULT_SOURCE,
        help=f"Graph v1.0 CSDL metadata (default: {DEFAULT_SOURCE})",
    )
    parser.add_argument(
        "--output",
        default=str(DEFAULT_OUTPUT),
        help="where to write the subset, '-' for standard output (default: the committed file)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 when the output file differs from what would be generated",
    )
    args = parser.parse_args(argv)
    if not args.source.is_file():
        parser.error(f"reference not found: {args.source}")
    text = render(build_subset(args.source))
    if args.check:
        output = Path(args.output)
        current = output.read_bytes() if output.is_file() else None
        if current != text.encode("utf-8"):
            print(f"{output} is out of date: run python scripts/gen_graph_subset.py")
            return 1
        return 0
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(text.encode("utf-8"))
    subset = json.loads(text)
    print(f"wrote {output}: {len(subset['types'])} types, {len(subset['actions'])} actions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
