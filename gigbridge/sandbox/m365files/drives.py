"""Drives and driveItems: each unified group's SharePoint document library ("Documents").

Addressing, as Graph's: ``/groups/{id}/drive``, ``/drives/{d}``, ``/drives/{d}/root``,
``/drives/{d}/items/{id}``, and by path ``/drives/{d}/root:/a/b`` or
``/drives/{d}/items/{id}:/a/b``, followed by ``:/children``, ``:/content`` and so on (also
under ``/groups/{id}/drive/…``). Names are unique per folder regardless of case.

- ``GET …/children`` pages by name (``$top``, ``@odata.nextLink``).
- ``POST …/children`` makes a folder (``{"name", "folder": {}}``); on a taken name
  ``@microsoft.graph.conflictBehavior`` decides: ``fail`` (the default, 409
  ``nameAlreadyExists``), ``rename`` (``name 1``, ``name 2`` …) or ``replace``.
- ``PUT …/{parent}:/{name}:/content`` (or ``…/items/{id}/content``) stores a small file
  (conflict behaviour from the query, default ``replace``): 201 for a new file, 200 for a new
  version. The sandbox's Django limit on request bodies (2.5 MB) applies; larger files go
  through an upload session.
- ``POST …/{parent}:/{name}:/createUploadSession`` (or ``…/items/{id}/createUploadSession`` for
  a new version of that file) answers 200 with an ``uploadSession``; see ``uploads``.
  Conflict behaviour from ``item``, default ``fail``, judged when the last byte arrives.
- ``GET …/content`` answers 302 to a pre-authenticated ``downloadUrl`` (also in
  ``@microsoft.graph.downloadUrl`` of a file). Download and upload URLs and ``webUrl`` are on
  the files host (``settings.SANDBOX_FILES_URL``), not Graph's, as SharePoint's are.
- ``DELETE`` removes the item and everything under it (an ``If-Match`` with its eTag or cTag is
  honoured); later requests for it are 404 ``itemNotFound``. The root cannot be deleted.
- ``POST …/permanentDelete`` (no body): the same, as Graph's action for skipping the recycle
  bin: 204, the item, everything under it and all versions gone (their bytes too).
- ``PATCH …/items/{id}``: ``name`` (rename), ``parentReference`` (``id``, or ``path`` as
  ``/drives/{d}/root:/a``; move within the drive, not into itself), ``description``; a taken
  name in the target folder per ``@microsoft.graph.conflictBehavior`` (``fail`` by default: 409
  ``nameAlreadyExists``; ``rename``; ``replace``); ``If-Match`` honoured; 200 with the item.
  Other properties are refused (400 ``invalidRequest``); the body is checked against the
  metadata's driveItem.
- ``GET …/versions``: a file's versions, newest first, ``1.0``, ``2.0`` …;
  ``GET …/versions/{id}/content``: 302 to a ``downloadUrl`` of that version's bytes.
- Every change is logged for ``delta`` and announced on the drive's root (``changes``).
- ``file.hashes`` carries ``quickXorHash`` (what SharePoint reports) and ``sha256Hash``.

Sharing: ``POST …/invite`` grants ``read`` or ``write`` to each recipient (by ``email``, or
``objectId`` of a tenant user), with an optional ``expirationDateTime`` that must lie in the
future; inviting an address that already has a permission on the item replaces its roles and
expiry (same permission id). It answers 200 ``{"value": [permission]}``: ``grantedToV2`` with
the ``siteUser`` (and ``user`` when the address belongs to a tenant user), ``invitation`` with
the ``email`` for everyone not a member of the tenant. ``sendInvitation: true`` records the
sharing mail with the tenant's sent mail. ``GET …/permissions`` lists the site's groups (owners,
members, visitors), then permissions inherited from folders above (``inheritedFrom``), then the
item's own; expired ones are gone (judged by the sandbox clock). ``DELETE …/permissions/{id}``
removes one of the item's own (204); inherited and site permissions cannot be removed here
(400). ``PATCH …/permissions/{id}`` changes one of the item's own: ``roles`` (``read`` or
``write``) and ``expirationDateTime`` (in the future, as on invite; ``null`` removes the
expiry); any other property of ``permission`` is refused (400 ``invalidRequest``), so are
inherited and site permissions; it answers 200 with the permission.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import re
import secrets
import uuid
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Max, Sum
from django.utils.dateparse import parse_datetime

from ..graph.dispatch import GraphRequest, GraphResponse, created, iso, no_content, ok, route
from ..graph.errors import GraphError
from ..graph.groups import find_group
from ..graph.paging import paginate
from ..graph.validation import check, check_action
from ..models import GraphGroup, GraphSentMail, SandboxUser, digest
from . import changes, clock, notify, storage
from .common import (
    drive_id,
    identity_of,
    item_ctag,
    item_etag,
    item_id,
    permission_id,
    valid_name,
)
from .models import Drive, DriveItem, DriveItemVersion, DrivePermission, UploadSession
from .routing import regex_route

READ = (
    "Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All",
    "Sites.Manage.All", "Sites.FullControl.All", "Files.Read", "Files.ReadWrite",
)  # fmt: skip
WRITE = (
    "Files.ReadWrite.All", "Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All",
    "Files.ReadWrite",
)  # fmt: skip

QUOTA_TOTAL = 25 * 1024**4  # a SharePoint site's default storage (25 TiB)
SESSION_LIFETIME = dt.timedelta(hours=1)  # from creation, renewed by every accepted chunk
DOWNLOAD_LIFETIME = 3600  # seconds a downloadUrl stays valid
CONFLICT = "@microsoft.graph.conflictBehavior"
BEHAVIORS = ("fail", "replace", "rename")
ROLES = ("read", "write")
SITE_GROUPS = [("Owners", ["owner"]), ("Members", ["write"]), ("Visitors", ["read"])]


# -- errors, as the drive API spells them (lower camel case codes) ----------------------------


def item_not_found() -> GraphError:
    return GraphError(404, "itemNotFound", "The resource could not be found.")


def invalid(message: str) -> GraphError:
    return GraphError(400, "invalidRequest", message)


def name_exists(name: str) -> GraphError:
    return GraphError(
        409, "nameAlreadyExists", f"The specified item name already exists: '{name}'."
    )


# -- lookups ----------------------------------------------------------------------------------


def site_host() -> str:
    """The SharePoint host name of sites (``contoso.sharepoint.com`` in Microsoft 365)."""
    return settings.SANDBOX_FILES_URL.split("://", 1)[-1]


def drive_for_group(group: GraphGroup) -> Drive:
    """The group's document library, provisioned with its root folder on first use."""
    drive = Drive.objects.filter(group_id=group.id).first()
    if drive is not None:
        return drive
    drive = Drive.objects.create(
        id=drive_id(),
        tenant=group.tenant,
        group_id=group.id,
        site_name=group.mail_nickname,
        group_name=group.display_name,
    )
    root = DriveItem.objects.create(
        id=item_id(),
        drive=drive,
        parent=None,
        name="root",
        is_folder=True,
        created_by={"user": {"displayName": "System Account"}},
        modified_by={"user": {"displayName": "System Account"}},
    )
    changes.changed(root)  # the root is the first entry of the drive's change log
    return drive


def find_drive(request: GraphRequest, key: str) -> Drive:
    if not key.startswith("b!"):
        raise invalid(
            "The provided drive id appears to be malformed, or does not represent a valid drive."
        )
    drive = Drive.objects.filter(tenant=request.tenant, id=key).first()
    if drive is None or not GraphGroup.objects.filter(id=drive.group_id).exists():
        raise item_not_found()
    return drive


def group_drive(request: GraphRequest, key: str) -> Drive:
    group = find_group(request, key)
    if "Unified" not in (group.group_types or []):
        raise item_not_found()  # only Microsoft 365 groups have a team site
    return drive_for_group(group)


def root_of(drive: Drive) -> DriveItem:
    return DriveItem.objects.get(drive=drive, parent__isnull=True)


def child_named(parent: DriveItem, name: str) -> DriveItem | None:
    return DriveItem.objects.filter(parent=parent, name__iexact=name).first()


def walk(base: DriveItem, path: str) -> DriveItem:
    item = base
    for name in [part for part in path.split("/") if part]:
        if not item.is_folder:
            raise item_not_found()
        item = child_named(item, name)
        if item is None:
            raise item_not_found()
    return item


def path_of(item: DriveItem) -> list[DriveItem]:
    """The folders from the root down to (not including) ``item``."""
    chain = []
    current = item.parent
    while current is not None:
        chain.append(current)
        current = current.parent
    return list(reversed(chain))


def path_string(item: DriveItem) -> str:
    """``/drives/{d}/root:/a/b`` for an item under a/b (``…/root:`` under the root)."""
    names = [i.name for i in path_of(item)[1:]]
    return f"/drives/{item.drive_id}/root:" + "".join(f"/{n}" for n in names)


# -- JSON -------------------------------------------------------------------------------------


def web_url(drive: Drive, item: DriveItem | None = None) -> str:
    site = quote(drive.site_name)
    base = f"{settings.SANDBOX_FILES_URL}/_sharepoint/sites/{site}/Shared%20Documents"
    if item is None or item.parent_id is None:
        return base
    names = [i.name for i in path_of(item)[1:]] + [item.name]
    return base + "".join("/" + quote(n) for n in names)


def current_version(item: DriveItem) -> DriveItemVersion | None:
    return item.versions.order_by("-number").first()


def subtree_size(item: DriveItem) -> int:
    if not item.is_folder:
        version = current_version(item)
        return version.size if version else 0
    total, folders = 0, [item.pk]
    while folders:
        children = list(DriveItem.objects.filter(parent_id__in=folders))
        folders = [c.pk for c in children if c.is_folder]
        files = [c.pk for c in children if not c.is_folder]
        for pk in files:
            version = DriveItemVersion.objects.filter(item_id=pk).order_by("-number").first()
            total += version.size if version else 0
    return total


def download_url(item: DriveItem, version: DriveItemVersion) -> str:
    token = signing.dumps({"i": item.id, "v": version.number}, salt="sandbox-files-download")
    return f"{settings.SANDBOX_FILES_URL}/_sharepoint/download?tempauth={token}"


def read_download_token(token: str) -> tuple[str, int] | None:
    try:
        data = signing.loads(token, salt="sandbox-files-download", max_age=DOWNLOAD_LIFETIME)
    except signing.BadSignature:
        return None
    return data.get("i"), data.get("v")


def parent_reference(item: DriveItem) -> dict:
    drive = item.drive
    reference = {
        "driveType": "documentLibrary",
        "driveId": drive.id,
        "siteId": f"{site_host()},{drive.site_id},{drive.web_id}",
    }
    if item.parent is not None:
        reference["id"] = item.parent_id
        reference["name"] = (
            "Shared Documents" if item.parent.parent_id is None else (item.parent.name)
        )
        reference["path"] = path_string(item)
    return reference


def item_json(item: DriveItem, *, with_download: bool = True) -> dict:
    body = {
        "id": item.id,
        "name": "root" if item.parent_id is None else item.name,
        "eTag": item_etag(item.unique_id, item.version),
        "cTag": item_ctag(item.unique_id, item.content_version),
        "createdDateTime": iso(item.created),
        "lastModifiedDateTime": iso(item.modified),
        "createdBy": item.created_by,
        "lastModifiedBy": item.modified_by,
        "webUrl": web_url(item.drive, item),
        "parentReference": parent_reference(item),
        "fileSystemInfo": {
            "createdDateTime": iso(item.created),
            "lastModifiedDateTime": iso(item.modified),
        },
        "size": subtree_size(item),
    }
    if item.description:
        body["description"] = item.description
    if item.is_folder:
        body["folder"] = {"childCount": item.children.count()}
        if item.parent_id is None:
            body["root"] = {}
    else:
        version = current_version(item)
        if version is not None:
            if with_download:
                body["@microsoft.graph.downloadUrl"] = download_url(item, version)
            body["file"] = {
                "mimeType": version.mime_type,
                "hashes": {
                    "quickXorHash": version.quick_xor,
                    "sha256Hash": version.sha256.upper(),
                },
            }
    if item.permissions.exists():
        body["shared"] = {"scope": "users"}
    return body


def item_entity(request: GraphRequest, item: DriveItem) -> dict:
    context = f"{request.base}/$metadata#drives('{item.drive_id}')/items/$entity"
    return {"@odata.context": context, **item_json(item)}


def drive_json(request: GraphRequest, drive: Drive) -> dict:
    group = GraphGroup.objects.select_related("tenant").filter(id=drive.group_id).first()
    used = (
        DriveItemVersion.objects.filter(item__drive=drive).aggregate(total=Sum("size"))["total"]
        or 0
    )
    modified = DriveItem.objects.filter(drive=drive).aggregate(last=Max("modified"))["last"]
    owner = {"id": str(drive.group_id), "displayName": drive.group_name}
    if group is not None:
        owner["displayName"] = group.display_name
        owner["email"] = f"{group.mail_nickname}@{group.tenant.domain}"
    system = {"user": {"displayName": "System Account"}}
    return {
        "@odata.context": f"{request.base}/$metadata#drives/$entity",
        "id": drive.id,
        "name": "Documents",
        "description": "",
        "driveType": "documentLibrary",
        "createdDateTime": iso(drive.created),
        "lastModifiedDateTime": iso(modified or drive.created),
        "webUrl": web_url(drive),
        "createdBy": system,
        "lastModifiedBy": system,
        "owner": {"group": owner},
        "quota": {
            "deleted": 0,
            "remaining": QUOTA_TOTAL - used,
            "state": "normal",
            "total": QUOTA_TOTAL,
            "used": used,
        },
    }


# -- routes: drives ---------------------------------------------------------------------------


@route("GET", "/groups/{key}/drive", permissions=READ)
def get_group_drive(request: GraphRequest, key: str) -> GraphResponse:
    return ok(drive_json(request, group_drive(request, key)))


@route("GET", "/drives/{key}", permissions=READ)
def get_drive(request: GraphRequest, key: str) -> GraphResponse:
    return ok(drive_json(request, find_drive(request, key)))


# -- routes: items (one entry point per method; ``_Target`` parses the rest of the path) -------

_ITEM_PATH = re.compile(
    r"(?P<base>root|items/(?P<id>[^/:]+))(?::(?P<path>[^:]*):?)?(?P<tail>/.*)?", re.IGNORECASE
)


class _Target:
    """What ``root…`` or ``items/{id}…`` names: the item (or, for a path to an item that does
    not exist yet, its would-be parent and name) and the rest (``/children`` …)."""

    def __init__(self, drive: Drive, rest: str):
        found = _ITEM_PATH.fullmatch(rest)
        if not found:
            raise GraphError(400, "invalidRequest", f"Invalid request path '{rest}'.")
        # ``items/root`` is the root's alias, as Graph's samples use it (``items/root:/a.txt:``).
        if found.group("id") and found.group("id").lower() != "root":
            base = DriveItem.objects.filter(drive=drive, id=found.group("id")).first()
            if base is None:
                raise item_not_found()
        else:
            base = root_of(drive)
        self.base = base
        self.path = found.group("path") or ""
        self.tail = (found.group("tail") or "").rstrip("/").lower()
        self.tail_raw = (found.group("tail") or "").rstrip("/")

    def item(self) -> DriveItem:
        return walk(self.base, self.path)

    def parent_and_name(self) -> tuple[DriveItem, str]:
        """For ``{parent}:/{name}:`` addressing of something that may not exist yet."""
        parts = [p for p in self.path.split("/") if p]
        if not parts:
            raise invalid("The request needs a path ending in the item's name.")
        parent = walk(self.base, "/".join(parts[:-1]))
        if not parent.is_folder:
            raise invalid("The parent of the item must be a folder.")
        return parent, parts[-1]


def _dispatch(request: GraphRequest, drive: Drive, rest: str) -> GraphResponse:
    target = _Target(drive, rest)
    tail, key = target.tail, None
    parts = target.tail_raw.split("/")  # "/permissions/{id}" -> ["", "permissions", "{id}"]
    if len(parts) == 3 and parts[1].lower() in ("permissions", "versions"):
        tail, key = f"/{parts[1].lower()}/{{id}}", parts[2]
    elif len(parts) == 4 and parts[1].lower() == "versions" and parts[3].lower() == "content":
        tail, key = "/versions/{id}/content", parts[2]
    action = _ACTIONS.get((tail, request.method))
    if action is not None:
        return action(request, target, key)
    if any(known == tail for known, _ in _ACTIONS):
        raise GraphError(
            405,
            "Request_BadRequest",
            f"The HTTP method '{request.method}' is not supported on the resource '{rest}'.",
        )
    segment = tail.rsplit("/", 1)[-1] or rest
    raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


_DRIVE_ITEMS = r"/drives/(?P<key>[^/]+)/(?P<rest>(?:root|items/).*)"
_GROUP_ITEMS = r"/groups/(?P<key>[^/]+)/drive/(?P<rest>(?:root|items/).*)"


def _by_drive(request: GraphRequest, key: str, rest: str) -> GraphResponse:
    return _dispatch(request, find_drive(request, key), rest)


def _by_group(request: GraphRequest, key: str, rest: str) -> GraphResponse:
    return _dispatch(request, group_drive(request, key), rest)


for _method, _permissions in (
    ("GET", READ), ("POST", WRITE), ("PUT", WRITE), ("PATCH", WRITE), ("DELETE", WRITE),
):  # fmt: skip
    regex_route(_method, _DRIVE_ITEMS, permissions=_permissions, params=2)(_by_drive)
    regex_route(_method, _GROUP_ITEMS, permissions=_permissions, params=2)(_by_group)


# -- children and folders ---------------------------------------------------------------------


def list_children(request: GraphRequest, folder: DriveItem) -> GraphResponse:
    if not folder.is_folder:
        return ok(
            {
                "@odata.context": f"{request.base}/$metadata#drives('{folder.drive_id}')/items"
                f"('{folder.id}')/children",
                "value": [],
            }
        )
    context = f"{request.base}/$metadata#drives('{folder.drive_id}')/items('{folder.id}')/children"
    return ok(paginate(request, folder.children.all(), item_json, context, key="name"))


def free_name(parent: DriveItem, name: str) -> str:
    """``name 1``, ``name 2`` … (before the extension of a file name), as SharePoint renames."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, extension = name, ""
    n = 1
    while True:
        candidate = f"{stem} {n}" + (f".{extension}" if extension else "")
        if child_named(parent, candidate) is None:
            return candidate
        n += 1


def _conflict(value, default: str) -> str:
    behavior = (value or default).lower() if isinstance(value, str | type(None)) else None
    if behavior not in BEHAVIORS:
        raise invalid(f"Invalid value for {CONFLICT}: '{value}'. Use fail, replace or rename.")
    return behavior


def _touch_parents(item: DriveItem) -> None:
    """A folder's eTag changes with what is in it, as SharePoint's does."""
    for folder in path_of(item):
        DriveItem.objects.filter(pk=folder.pk).update(version=folder.version + 1)


def create_folder(request: GraphRequest, parent: DriveItem) -> GraphResponse:
    body = request.json()
    check("driveItem", body)
    if not parent.is_folder:
        raise invalid("Items can only be created in a folder.")
    name = body.get("name")
    if not valid_name(name):
        raise invalid(f"The name '{name}' is not valid for a folder.")
    if "folder" not in body:
        raise invalid(
            "The sandbox creates folders here: send 'folder': {} (files go through "
            "PUT …/content or an upload session)."
        )
    behavior = _conflict(body.get(CONFLICT), "fail")
    existing = child_named(parent, name)
    if existing is not None:
        if behavior == "fail":
            raise name_exists(name)
        if behavior == "rename":
            name = free_name(parent, name)
        else:
            delete_tree(existing)
    who = identity_of(request)
    folder = DriveItem.objects.create(
        id=item_id(),
        drive=parent.drive,
        parent=parent,
        name=name,
        is_folder=True,
        description=body.get("description") or "",
        created_by=who,
        modified_by=who,
        created=clock.now(),
        modified=clock.now(),
    )
    _touch_parents(folder)
    changes.changed(folder)
    return created(item_entity(request, folder))


def delete_tree(item: DriveItem) -> None:
    """Delete an item with everything below it, and afterwards the bytes nothing uses.
    Logged (tombstones for delta) and announced."""
    changes.removed(item)
    items, folders = [item.pk], [item.pk]
    while folders:
        children = list(
            DriveItem.objects.filter(parent_id__in=folders).values_list("pk", "is_folder")
        )
        items += [pk for pk, _ in children]
        folders = [pk for pk, is_folder in children if is_folder]
    shas = list(DriveItemVersion.objects.filter(item_id__in=items).values_list("sha256", flat=True))
    sessions = list(UploadSession.objects.filter(parent_id__in=items).values_list("id", flat=True))
    item.delete()  # cascades to children, versions, permissions and upload sessions

    def cleanup() -> None:
        storage.forget(shas)
        for session in sessions:
            storage.part_path(session).unlink(missing_ok=True)

    transaction.on_commit(cleanup)


def delete_item(request: GraphRequest, item: DriveItem) -> GraphResponse:
    if item.parent_id is None:
        raise GraphError(403, "accessDenied", "The root folder of a drive cannot be deleted.")
    given = request.headers.get("if-match")
    if given and given.strip() not in (
        "*",
        item_etag(item.unique_id, item.version),
        item_ctag(item.unique_id, item.content_version),
    ):
        raise GraphError(412, "preconditionFailed", "ETag does not match current item's value")
    _touch_parents(item)
    delete_tree(item)
    return no_content()


def permanent_delete(request: GraphRequest, item: DriveItem) -> GraphResponse:
    """``POST …/permanentDelete``: the item, everything under it and all their versions are
    gone (no recycle bin here either way; DELETE is the same in the sandbox)."""
    # The metadata's permanentDelete has no parameters besides the item (it is not in the
    # conformance subset, which has nothing else to check): any body is refused.
    if request.body.strip() and request.json():
        raise invalid("permanentDelete takes no parameters: send no body (or {}).")
    if item.parent_id is None:
        raise GraphError(403, "accessDenied", "The root folder of a drive cannot be deleted.")
    _touch_parents(item)
    delete_tree(item)
    return no_content()


# What PATCH may change on an item; anything else of driveItem is refused (400).
MOVABLE = {"name", "parentReference", "description", CONFLICT}


def _new_parent(item: DriveItem, reference) -> DriveItem:
    if not isinstance(reference, dict):
        raise invalid("'parentReference' must be an object with the new parent folder's 'id'.")
    if reference.get("driveId") not in (None, item.drive_id):
        raise invalid("Items can only be moved within their drive (use copy across drives).")
    key = reference.get("id")
    path = reference.get("path")
    if key:
        parent = DriveItem.objects.filter(drive=item.drive, id=str(key)).first()
    elif isinstance(path, str) and path:
        prefix = f"/drives/{item.drive_id}/root:"
        relative = path[len(prefix) :] if path.startswith(prefix) else None
        if relative is None and path.startswith("/drive/root:"):
            relative = path[len("/drive/root:") :]
        if relative is None:
            raise invalid(f"'parentReference.path' must start with '{prefix}'.")
        parent = walk(root_of(item.drive), relative)
    else:
        raise invalid("'parentReference' needs the new parent folder's 'id' (or 'path').")
    if parent is None:
        raise item_not_found()
    if not parent.is_folder:
        raise invalid("The new parent of an item must be a folder.")
    if parent.pk == item.pk or (item.is_folder and item in path_of(parent)):
        raise invalid("A folder cannot be moved into itself or a folder inside it.")
    return parent


def update_item(request: GraphRequest, item: DriveItem) -> GraphResponse:
    """``PATCH …/items/{id}``: rename (``name``), move (``parentReference``) within the drive,
    or change ``description``; a taken name in the target folder is decided by
    ``@microsoft.graph.conflictBehavior`` (``fail``, the default: 409 ``nameAlreadyExists``;
    ``rename``; ``replace``: the item there is deleted). ``If-Match`` honoured."""
    body = request.json()
    check("driveItem", body, code="invalidRequest")
    other = sorted(set(body) - MOVABLE)
    if other:
        raise invalid(
            "The sandbox updates 'name', 'parentReference' and 'description' of an item, not "
            + ", ".join(repr(name) for name in other)
            + "."
        )
    if item.parent_id is None:
        raise GraphError(403, "accessDenied", "The root folder of a drive cannot be changed.")
    given = request.headers.get("if-match")
    if given and given.strip() not in (
        "*",
        item_etag(item.unique_id, item.version),
        item_ctag(item.unique_id, item.content_version),
    ):
        raise GraphError(412, "preconditionFailed", "ETag does not match current item's value")
    behavior = _conflict(body.get(CONFLICT), "fail")
    old_parent = item.parent
    parent = _new_parent(item, body["parentReference"]) if "parentReference" in body else old_parent
    name = body.get("name", item.name)
    if not valid_name(name):
        raise invalid(f"The name '{name}' is not valid.")
    taken = child_named(parent, name)
    if taken is not None and taken.pk != item.pk:
        if behavior == "fail":
            raise name_exists(name)
        if behavior == "rename":
            name = free_name(parent, name)
        else:
            _touch_parents(taken)
            delete_tree(taken)
    if "description" in body:
        item.description = body.get("description") or ""
    _touch_parents(item)  # the old place
    item.parent, item.name = parent, name
    item.version += 1
    item.modified, item.modified_by = clock.now(), identity_of(request)
    item.save()
    _touch_parents(item)  # the new place
    changes.changed(item, also=old_parent if old_parent.pk != parent.pk else None)
    return ok(item_entity(request, item))


# -- file content -----------------------------------------------------------------------------


def commit_file(
    parent: DriveItem,
    name: str,
    sha: str,
    hashes,
    behavior: str,
    who: dict,
    description: str = "",
    existing: DriveItem | None = None,
) -> tuple[DriveItem, bool]:
    """Store content as ``name`` in ``parent``: a new file, or a new version of the file of
    that name (``replace``). Returns the item and whether it is new. 409 on a taken name."""
    current = existing or child_named(parent, name)
    if current is not None and (behavior == "rename" and existing is None):
        name, current = free_name(parent, name), None
    if current is not None:
        if current.is_folder or behavior == "fail":
            raise name_exists(name)
    now = clock.now()  # the tenant's time: versions and items are dated by the sandbox clock
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    is_new = current is None
    if is_new:
        current = DriveItem.objects.create(
            id=item_id(),
            drive=parent.drive,
            parent=parent,
            name=name,
            is_folder=False,
            description=description,
            created_by=who,
            modified_by=who,
            created=now,
            modified=now,
            content_version=1,
            list_item_id=DriveItem.objects.filter(drive=parent.drive).count(),
        )
        number = 1
    else:
        number = (current.versions.aggregate(last=Max("number"))["last"] or 0) + 1
        current.version += 1
        current.content_version += 1
        current.modified, current.modified_by = now, who
        if description:
            current.description = description
        current.save()
    DriveItemVersion.objects.create(
        item=current,
        number=number,
        size=hashes.size,
        sha256=sha,
        quick_xor=hashes.quick_xor.b64digest(),
        mime_type=mime,
        created=now,
        created_by=who,
    )
    _touch_parents(current)
    changes.changed(current)
    return current, is_new


def put_content(request: GraphRequest, target: _Target) -> GraphResponse:
    behavior = _conflict(request.query.get(CONFLICT), "replace")
    if target.path:
        parent, name = target.parent_and_name()
        existing = None
    else:
        existing = target.base
        if existing.is_folder:
            raise invalid("Content can only be uploaded to a file.")
        parent, name = existing.parent, existing.name
    if not valid_name(name):
        raise invalid(f"The name '{name}' is not valid for a file.")
    sha, hashes = storage.store_bytes(request.body)
    item, is_new = commit_file(
        parent, name, sha, hashes, behavior, identity_of(request), existing=existing
    )
    body = item_entity(request, item)
    return created(body) if is_new else ok(body)


def get_content(request: GraphRequest, item: DriveItem) -> GraphResponse:
    if item.is_folder:
        raise invalid("Only files have content.")
    version = current_version(item)
    if version is None:
        raise item_not_found()
    return GraphResponse(302, None, {"Location": download_url(item, version)})


# -- upload sessions --------------------------------------------------------------------------


def create_upload_session(request: GraphRequest, target: _Target) -> GraphResponse:
    body = request.json() if request.body.strip() else {}
    check_action("driveItem", "createUploadSession", body)
    item = body.get("item") or {}
    if target.path:
        parent, name = target.parent_and_name()
        behavior = _conflict(item.get(CONFLICT), "fail")
        if item.get("name") not in (None, name):
            raise invalid(
                f"The name in the request body ('{item.get('name')}') must be the name "
                f"in the path ('{name}')."
            )
    else:
        existing = target.base
        if existing.is_folder:
            raise invalid("An upload session for an existing item needs a file.")
        parent, name, behavior = existing.parent, existing.name, "replace"
    if not valid_name(name):
        raise invalid(f"The name '{name}' is not valid for a file.")
    size = item.get("fileSize")
    if size is not None and (not isinstance(size, int) or size < 0):
        raise invalid("'fileSize' must be a byte count.")
    token = secrets.token_urlsafe(32)
    session = UploadSession.objects.create(
        id=uuid.uuid4().hex,
        token_hash=digest(token),
        drive=parent.drive,
        parent=parent,
        name=name,
        conflict_behavior=behavior,
        description=item.get("description") or "",
        declared_size=size,
        created_by=identity_of(request),
        expires=clock.now() + SESSION_LIFETIME,
    )
    return ok(
        {
            "@odata.context": f"{request.base}/$metadata#microsoft.graph.uploadSession",
            "uploadUrl": upload_url(session, token),
            "expirationDateTime": iso(session.expires),
            "nextExpectedRanges": ["0-"],
        }
    )


def upload_url(session: UploadSession, token: str) -> str:
    return (
        f"{settings.SANDBOX_FILES_URL}/_sharepoint/uploadSession?guid={session.id}&tempauth={token}"
    )


# -- versions ---------------------------------------------------------------------------------


def version_json(item: DriveItem, version: DriveItemVersion) -> dict:
    return {
        "id": f"{version.number}.0",
        "lastModifiedDateTime": iso(version.created),
        "lastModifiedBy": version.created_by,
        "size": version.size,
    }


def list_versions(request: GraphRequest, item: DriveItem) -> GraphResponse:
    if item.is_folder:
        raise invalid("Only files have versions.")
    context = f"{request.base}/$metadata#drives('{item.drive_id}')/items('{item.id}')/versions"
    versions = [version_json(item, v) for v in item.versions.order_by("-number")]
    return ok({"@odata.context": context, "value": versions})


def find_version(item: DriveItem, key: str) -> DriveItemVersion:
    """A version by its id (``2.0``, or ``2``); 404 ``itemNotFound`` for anything else."""
    found = re.fullmatch(r"(\d{1,9})(?:\.0)?", key)
    version = item.versions.filter(number=int(found.group(1))).first() if found else None
    if item.is_folder or version is None:
        raise item_not_found()
    return version


def get_version(request: GraphRequest, item: DriveItem, key: str) -> GraphResponse:
    version = find_version(item, key)
    context = (
        f"{request.base}/$metadata#drives('{item.drive_id}')/items('{item.id}')/versions/$entity"
    )
    return ok({"@odata.context": context, **version_json(item, version)})


def get_version_content(request: GraphRequest, item: DriveItem, key: str) -> GraphResponse:
    """302 to a download URL of that version's bytes (on the files host), as for content."""
    version = find_version(item, key)
    return GraphResponse(302, None, {"Location": download_url(item, version)})


# -- sharing ----------------------------------------------------------------------------------


def site_user_id(email: str) -> str:
    return str(int(hashlib.sha256(email.lower().encode()).hexdigest()[:6], 16) % 100000 + 10)


def login_name(email: str, user: SandboxUser | None) -> str:
    if user is not None and user.user_type == SandboxUser.UserType.MEMBER:
        return f"i:0#.f|membership|{user.user_principal_name}"
    return f"i:0#.f|membership|urn:spo:guest#{email}"


def permission_json(permission: DrivePermission, inherited_from: DriveItem | None) -> dict:
    user = None
    if permission.user_id:
        user = SandboxUser.objects.filter(id=permission.user_id).first()
    name = user.display_name if user else (permission.display_name or permission.email)
    granted: dict = {
        "siteUser": {
            "id": site_user_id(permission.email),
            "displayName": name,
            "email": permission.email,
            "loginName": login_name(permission.email, user),
        }
    }
    if user is not None:
        granted["user"] = {"id": str(user.id), "displayName": name, "email": permission.email}
    body = {
        "id": permission.id,
        "roles": list(permission.roles),
        "grantedToV2": granted,
        "expirationDateTime": iso(permission.expires),
        "hasPassword": False,
    }
    if user is None or user.user_type != SandboxUser.UserType.MEMBER:
        body["invitation"] = {
            "email": permission.email,
            "signInRequired": permission.require_sign_in,
            "invitedBy": permission.invited_by,
        }
    if inherited_from is not None:
        body["inheritedFrom"] = {
            "driveId": inherited_from.drive_id,
            "driveType": "documentLibrary",
            "id": inherited_from.id,
            "path": path_string(inherited_from)
            if inherited_from.parent_id
            else f"/drives/{inherited_from.drive_id}/root:",
        }
    return body


def site_group_permissions(drive: Drive, on_root: bool) -> list[dict]:
    root = root_of(drive)
    found = []
    for number, (suffix, roles) in enumerate(SITE_GROUPS, start=3):
        title = f"{drive.group_name} {suffix}"
        body = {
            "id": _site_group_permission_id(drive, suffix),
            "roles": roles,
            "grantedToV2": {
                "siteGroup": {"id": str(number), "displayName": title, "loginName": title}
            },
            "shareId": None,
        }
        if not on_root:
            body["inheritedFrom"] = {
                "driveId": drive.id,
                "driveType": "documentLibrary",
                "id": root.id,
                "path": f"/drives/{drive.id}/root:",
            }
        found.append(body)
    return found


def _site_group_permission_id(drive: Drive, suffix: str) -> str:
    return hashlib.sha256(f"{drive.id}:{suffix}".encode()).hexdigest()[:32]


def live(permissions):
    now = clock.now()
    return [p for p in permissions if p.expires is None or p.expires > now]


def all_permissions(item: DriveItem) -> list[tuple[dict, DrivePermission | None]]:
    """Every permission that applies to ``item``: site groups, inherited, its own."""
    found: list[tuple[dict, DrivePermission | None]] = [
        (body, None) for body in site_group_permissions(item.drive, item.parent_id is None)
    ]
    for folder in path_of(item):
        for permission in live(folder.permissions.all()):
            found.append((permission_json(permission, folder), None))
    for permission in live(item.permissions.all()):
        found.append((permission_json(permission, None), permission))
    return found


def list_permissions(request: GraphRequest, item: DriveItem) -> GraphResponse:
    context = f"{request.base}/$metadata#drives('{item.drive_id}')/items('{item.id}')/permissions"
    return ok({"@odata.context": context, "value": [body for body, _ in all_permissions(item)]})


def get_permission(request: GraphRequest, item: DriveItem, key: str) -> GraphResponse:
    for body, _ in all_permissions(item):
        if body["id"] == key:
            context = (
                f"{request.base}/$metadata#drives('{item.drive_id}')/items('{item.id}')"
                "/permissions/$entity"
            )
            return ok({"@odata.context": context, **body})
    raise item_not_found()


def delete_permission(request: GraphRequest, item: DriveItem, key: str) -> GraphResponse:
    for body, own in all_permissions(item):
        if body["id"] != key:
            continue
        if own is None:
            raise invalid(
                "Only permissions granted on this item can be deleted: this one is inherited "
                "(inheritedFrom) or belongs to the site."
            )
        own.delete()
        notify.drive_changed(item.drive)
        return no_content()
    raise item_not_found()


UPDATABLE = {"roles", "expirationDateTime"}  # what PATCH may change on a permission


def update_permission(request: GraphRequest, item: DriveItem, key: str) -> GraphResponse:
    body = request.json()
    check("permission", body, code="invalidRequest")
    other = sorted(set(body) - UPDATABLE)
    if other:
        raise invalid(
            f"Only 'roles' and 'expirationDateTime' of a permission can be updated, not "
            f"{', '.join(repr(name) for name in other)}."
        )
    for found, own in all_permissions(item):
        if found["id"] != key:
            continue
        if own is None:
            raise invalid(
                "Only permissions granted on this item can be updated: this one is inherited "
                "(inheritedFrom) or belongs to the site."
            )
        if "roles" in body:
            roles = body["roles"]
            if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
                raise invalid("'roles' must name 'read' or 'write'.")
            own.roles = ["write"] if "write" in roles else ["read"]
        if "expirationDateTime" in body:
            own.expires = _expiry(body["expirationDateTime"])
        own.save()
        notify.drive_changed(item.drive)
        context = (
            f"{request.base}/$metadata#drives('{item.drive_id}')/items('{item.id}')"
            "/permissions/$entity"
        )
        return ok({"@odata.context": context, **permission_json(own, None)})
    raise item_not_found()


def _expiry(value) -> dt.datetime | None:
    if value is None:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise invalid(f"'expirationDateTime' is not a valid date and time: '{value}'.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    if parsed <= clock.now():
        raise invalid("The expiration date and time must be in the future.")
    return parsed


def _recipient(request: GraphRequest, recipient) -> tuple[str, SandboxUser | None]:
    if not isinstance(recipient, dict):
        raise invalid("Each recipient must be an object with 'email' or 'objectId'.")
    users = SandboxUser.objects.filter(tenant=request.tenant)
    if recipient.get("objectId"):
        try:
            user = users.filter(id=uuid.UUID(str(recipient["objectId"]))).first()
        except ValueError:
            user = None
        if user is None or not user.mail:
            raise invalid(f"The recipient '{recipient['objectId']}' was not found.")
        return user.mail, user
    email = str(recipient.get("email") or "").strip()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise invalid(f"The recipient email address '{email}' is not valid.")
    return email, users.filter(mail__iexact=email).first()


def invite(request: GraphRequest, item: DriveItem) -> GraphResponse:
    body = request.json()
    check_action("driveItem", "invite", body, code="invalidRequest")
    recipients = body.get("recipients")
    if not isinstance(recipients, list) or not recipients:
        raise invalid("At least one recipient is required.")
    roles = body.get("roles")
    if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
        raise invalid("'roles' must name 'read' or 'write'.")
    roles = ["write"] if "write" in roles else ["read"]
    expires = _expiry(body.get("expirationDateTime"))
    require_sign_in = body.get("requireSignIn")
    require_sign_in = True if require_sign_in is None else bool(require_sign_in)
    who = identity_of(request)
    message = body.get("message") or ""
    granted = []
    for recipient in recipients:
        email, user = _recipient(request, recipient)
        permission = DrivePermission.objects.filter(item=item, email__iexact=email).first()
        if permission is None:
            permission = DrivePermission(id=permission_id(), item=item, email=email)
        permission.user_id = user.id if user else None
        permission.display_name = user.display_name if user else ""
        permission.roles = roles
        permission.expires = expires
        permission.require_sign_in = require_sign_in
        permission.invited_by = who
        permission.message = message
        permission.save()
        granted.append(permission)
        if body.get("sendInvitation"):
            _sharing_mail(request, item, permission, who)
    notify.drive_changed(item.drive)
    context = f"{request.base}/$metadata#Collection(microsoft.graph.permission)"
    return ok({"@odata.context": context, "value": [permission_json(p, None) for p in granted]})


def _sharing_mail(request: GraphRequest, item: DriveItem, permission, who: dict) -> None:
    sender = (who.get("user") or who.get("application") or {}).get("displayName") or "Someone"
    verb = "edit" if "write" in permission.roles else "view"
    lines = [f"{sender} shared '{item.name}' with you ({verb}).", web_url(item.drive, item)]
    if permission.message:
        lines.insert(0, permission.message)
    if permission.expires:
        lines.append(f"Access expires {iso(permission.expires)}.")
    message = {
        "subject": f"{sender} shared '{item.name}' with you",
        "body": {"contentType": "text", "content": "\n\n".join(lines)},
        "toRecipients": [{"emailAddress": {"address": permission.email}}],
        "from": {
            "emailAddress": {
                "name": "SharePoint Online",
                "address": "no-reply@sharepointonline.com",
            }
        },
    }
    GraphSentMail.objects.create(
        tenant=request.tenant,
        sender_address="no-reply@sharepointonline.com",
        subject=message["subject"],
        to=[permission.email],
        message=message,
        save_to_sent_items=False,
        source="sharing",
        created=clock.now(),  # the tenant's time: the sandbox clock
    )


# What follows ``root…`` / ``items/{id}…`` (lower case), by method.
_ACTIONS = {
    ("", "GET"): lambda request, target, _: ok(item_entity(request, target.item())),
    ("", "DELETE"): lambda request, target, _: delete_item(request, target.item()),
    ("", "PATCH"): lambda request, target, _: update_item(request, target.item()),
    ("/permanentdelete", "POST"): lambda request, target, _: permanent_delete(
        request, target.item()
    ),
    ("/children", "GET"): lambda request, target, _: list_children(request, target.item()),
    ("/children", "POST"): lambda request, target, _: create_folder(request, target.item()),
    ("/content", "PUT"): lambda request, target, _: put_content(request, target),
    ("/content", "GET"): lambda request, target, _: get_content(request, target.item()),
    ("/createuploadsession", "POST"): lambda request, target, _: create_upload_session(
        request, target
    ),
    ("/invite", "POST"): lambda request, target, _: invite(request, target.item()),
    ("/permissions", "GET"): lambda request, target, _: list_permissions(request, target.item()),
    ("/permissions/{id}", "GET"): lambda request, target, key: get_permission(
        request, target.item(), key
    ),
    ("/permissions/{id}", "DELETE"): lambda request, target, key: delete_permission(
        request, target.item(), key
    ),
    ("/permissions/{id}", "PATCH"): lambda request, target, key: update_permission(
        request, target.item(), key
    ),
    ("/versions", "GET"): lambda request, target, _: list_versions(request, target.item()),
    ("/versions/{id}", "GET"): lambda request, target, key: get_version(
        request, target.item(), key
    ),
    ("/versions/{id}/content", "GET"): lambda request, target, key: get_version_content(
        request, target.item(), key
    ),
}
