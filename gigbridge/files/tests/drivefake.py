"""An in-memory tenant for the files app's tests: drives with folders, files and versions, a
change log read by ``delta``, and fault injection. It stands in for the functions of
``gigbridge.integrations.msgraph.drives`` (and ``upload.upload_file``), which the files modules
call through their modules, so ``install`` swaps them for a test.

Shapes follow Graph's (driveItem, driveItemVersion, identitySet): ids, ``parentReference``
(``path`` only outside delta, as Graph), ``lastModifiedBy.user``, versions "1.0", "2.0" newest
first. ``fail(name, error)`` makes the next call of that function raise; ``calls`` records
every call by name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass, field

from gigbridge.integrations.msgraph import drives, upload
from gigbridge.integrations.msgraph.drives import Page
from gigbridge.integrations.msgraph.errors import (
    Conflict,
    NotFound,
    PermanentGraphError,
    RetryableGraphError,
)

APP = {"application": {"id": "app-gigbridge", "displayName": "Gigbridge"}}
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def person(user_id: str, name: str, email: str) -> dict:
    return {"user": {"id": user_id, "displayName": name, "email": email}}


def not_found(what: str) -> NotFound:
    return NotFound(404, "itemNotFound", f"{what} not found", "req-404", "GET", "/drives/x")


def unavailable() -> RetryableGraphError:
    return RetryableGraphError(503, "serviceNotAvailable", "try later", "req-503", "GET", "/x")


@dataclass
class Version:
    id: str
    data: bytes
    by: dict
    at: dt.datetime


@dataclass
class Item:
    id: str
    drive_id: str
    name: str
    parent_id: str | None
    folder: bool
    created_by: dict = field(default_factory=lambda: APP)
    created_at: dt.datetime = T0
    versions: list[Version] = field(default_factory=list)  # oldest first


class FakeDrives:
    PAGE = 2  # items per delta page: paging is always exercised

    def __init__(self):
        self.items: dict[str, Item] = {}
        self.log: list[tuple[int, str, str]] = []  # (seq, drive, item id)
        self.seq = itertools.count(1)
        self.ids = itertools.count(1)
        self.now = T0
        self.calls: list[str] = []
        self.faults: dict[str, list[Exception]] = {}
        self.stale_links: set[str] = set()
        self.groups: dict[str, str] = {}  # group id -> drive id

    # -- building the tenant -------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids):04d}"

    def _changed(self, item: Item) -> None:
        self.log.append((next(self.seq), item.drive_id, item.id))

    def drive(self, drive_id: str, group_id: str = "") -> Item:
        root = Item(
            id=f"root-{drive_id}", drive_id=drive_id, name="root", parent_id=None, folder=True
        )
        self.items[root.id] = root
        if group_id:
            self.groups[group_id] = drive_id
        return root

    def folder(self, drive_id: str, path: str) -> Item:
        parent = self.items[f"root-{drive_id}"]
        for name in [p for p in path.strip("/").split("/") if p]:
            child = self._child(parent.id, name)
            if child is None:
                child = Item(self._id("fold"), drive_id, name, parent.id, True)
                self.items[child.id] = child
                self._changed(child)
            parent = child
        return parent

    def put(self, drive_id: str, folder_path: str, name: str, data: bytes, by: dict) -> Item:
        """A person saves ``name`` (a new file or a new version of it)."""
        parent = self.folder(drive_id, folder_path)
        item = self._child(parent.id, name)
        if item is None:
            item = Item(self._id("item"), drive_id, name, parent.id, False, by, self.now)
            self.items[item.id] = item
        item.versions.append(Version(f"{len(item.versions) + 1}.0", data, by, self.now))
        self._changed(item)
        return item

    def _child(self, parent_id: str, name: str) -> Item | None:
        return next(
            (
                i
                for i in self.items.values()
                if i.parent_id == parent_id and i.name.lower() == name.lower()
            ),
            None,
        )

    def path(self, item: Item) -> str:
        names = []
        current = self.items.get(item.parent_id) if item.parent_id else None
        while current is not None and current.parent_id is not None:
            names.append(current.name)
            current = self.items.get(current.parent_id)
        return "/".join(reversed(names))

    def in_folder(self, drive_id: str, path: str) -> list[Item]:
        folder = self.folder(drive_id, path)
        return [i for i in self.items.values() if i.parent_id == folder.id]

    # -- JSON as Graph shapes it ----------------------------------------------------------

    def item_json(self, item: Item, with_path: bool = True) -> dict:
        body = {
            "id": item.id,
            "name": item.name,
            "createdBy": item.created_by,
            "createdDateTime": item.created_at.isoformat().replace("+00:00", "Z"),
            "webUrl": f"https://contoso.sharepoint.test/{item.drive_id}/{item.name}",
        }
        if item.parent_id is None:
            body["root"] = {}
            body["folder"] = {"childCount": 0}
            return body
        reference = {"driveId": item.drive_id, "id": item.parent_id}
        if with_path:
            reference["path"] = f"/drives/{item.drive_id}/root:/{self.path(item)}".rstrip("/")
            if reference["path"].endswith("root:"):
                reference["path"] = f"/drives/{item.drive_id}/root:"
        body["parentReference"] = reference
        if item.folder:
            body["folder"] = {"childCount": 0}
        else:
            current = item.versions[-1]
            body["file"] = {"hashes": {"sha256Hash": hashlib.sha256(current.data).hexdigest()}}
            body["size"] = len(current.data)
            body["lastModifiedBy"] = current.by
            body["lastModifiedDateTime"] = current.at.isoformat().replace("+00:00", "Z")
            body["@microsoft.graph.downloadUrl"] = f"fake://{item.id}/{current.id}"
        return body

    def version_json(self, version: Version) -> dict:
        return {
            "id": version.id,
            "lastModifiedBy": version.by,
            "lastModifiedDateTime": version.at.isoformat().replace("+00:00", "Z"),
            "size": len(version.data),
        }

    # -- faults ---------------------------------------------------------------------------

    def fail(
        self, name: str, error: Exception | None = None, times: int = 1, after: int = 0
    ) -> None:
        """The next ``times`` calls of ``name`` raise ``error`` (a 503), after ``after`` more
        calls that succeed."""
        self.faults.setdefault(name, []).extend([None] * after + [error or unavailable()] * times)

    def _call(self, name: str) -> None:
        self.calls.append(name)
        pending = self.faults.get(name)
        if pending:
            fault = pending.pop(0)
            if fault is not None:
                raise fault

    def _get(self, drive_id: str, item_id: str) -> Item:
        item = self.items.get(item_id)
        if item is None or item.drive_id != drive_id:
            raise not_found(f"item {item_id}")
        return item

    # -- the drives functions ---------------------------------------------------------------

    def delta(self, client, drive_id: str, link: str = ""):
        resynced = False
        if link in self.stale_links:
            link, resynced = "", True
        if link.startswith("next:"):
            _, _, seq, offset = link.split(":")
            since, offset = int(seq), int(offset)
        elif link.startswith("delta:"):
            since, offset = int(link.split(":")[2]), 0
        else:
            since, offset = 0, 0
        latest: dict[str, int] = {}
        for seq, drive, item_id in self.log:
            if drive == drive_id and seq > since:
                latest[item_id] = seq
        ordered = sorted(latest, key=lambda i: latest[i])
        end = self.log[-1][0] if self.log else 0
        while True:
            self._call("delta")
            chunk = ordered[offset : offset + self.PAGE]
            items = []
            for item_id in chunk:
                item = self.items.get(item_id)
                if item is None:
                    items.append({"id": item_id, "deleted": {"state": "deleted"}})
                else:
                    items.append(self.item_json(item, with_path=False))
            offset += self.PAGE
            if offset < len(ordered):
                yield Page(items, f"next:{drive_id}:{since}:{offset}", False, resynced)
            else:
                yield Page(items, f"delta:{drive_id}:{end}", True, resynced)
                return

    def get_item(self, client, drive_id: str, item_id: str) -> dict:
        self._call("get_item")
        return self.item_json(self._get(drive_id, item_id))

    def find_child(self, client, drive_id: str, parent_id: str, name: str) -> dict | None:
        self._call("find_child")
        child = self._child(parent_id, name)
        return self.item_json(child) if child else None

    def children(self, client, drive_id: str, folder_id: str) -> list[dict]:
        self._call("children")
        return [self.item_json(i) for i in self.items.values() if i.parent_id == folder_id]

    def group_drive(self, client, group_id: str) -> dict:
        self._call("group_drive")
        if group_id not in self.groups:
            raise not_found(f"group {group_id}")
        return {"id": self.groups[group_id]}

    def ensure_folder(self, client, drive_id: str, path: str) -> dict:
        self._call("ensure_folder")
        return self.item_json(self.folder(drive_id, path))

    def versions(self, client, drive_id: str, item_id: str) -> list[dict]:
        self._call("versions")
        item = self._get(drive_id, item_id)
        return [self.version_json(v) for v in reversed(item.versions)]

    def download_url(self, client, drive_id: str, item_id: str, version_id: str) -> str:
        self._call("download_url")
        item = self._get(drive_id, item_id)
        if version_id not in [v.id for v in item.versions]:
            raise not_found(f"version {version_id}")
        return f"fake://{item_id}/{version_id}"

    def download_to(self, client, url: str, out, **_) -> tuple[int, str]:
        self._call("download_to")
        item_id, version_id = url.removeprefix("fake://").split("/")
        item = self.items.get(item_id)
        version = next((v for v in (item.versions if item else []) if v.id == version_id), None)
        if version is None:
            raise not_found(url)
        out.write(version.data)
        return len(version.data), hashlib.sha256(version.data).hexdigest()

    def bytes_of(self, url: str) -> bytes:
        item_id, version_id = url.removeprefix("fake://").split("/")
        return next(v.data for v in self.items[item_id].versions if v.id == version_id)

    def permanent_delete(self, client, drive_id: str, item_id: str) -> None:
        self._call("permanent_delete")
        item = self._get(drive_id, item_id)
        del self.items[item.id]
        self._changed(item)

    def rename(self, client, drive_id, item_id, name, *, parent_id=None, conflict="fail") -> dict:
        self._call("rename")
        item = self._get(drive_id, item_id)
        taken = self._child(item.parent_id, name)
        if taken is not None and taken.id != item.id:
            if conflict == "fail":
                raise Conflict(409, "nameAlreadyExists", "name taken", "req-409", "PATCH", "/x")
            name = self._free(item.parent_id, name)
        item.name = name
        self._changed(item)
        return self.item_json(item)

    def _free(self, parent_id: str, name: str) -> str:
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        for number in itertools.count(1):
            candidate = f"{stem} {number}{dot}{ext}"
            if self._child(parent_id, candidate) is None:
                return candidate
        raise AssertionError("unreachable")

    def _store(self, drive_id, parent_id, name, stream, size, conflict) -> dict:
        data = stream.read()
        assert len(data) == size, "the stream must hold the size given"
        parent = self._get(drive_id, parent_id)
        existing = self._child(parent.id, name)
        if existing is not None and conflict == "rename":
            name, existing = self._free(parent.id, name), None
        if existing is None:
            existing = Item(self._id("item"), drive_id, name, parent.id, False, APP, self.now)
            self.items[existing.id] = existing
        existing.versions.append(Version(f"{len(existing.versions) + 1}.0", data, APP, self.now))
        self._changed(existing)
        return self.item_json(existing)

    def upload_file(
        self, client, drive_id, parent_id, filename, stream, size, *_, conflict="replace", **__
    ):
        self._call("upload_file" if conflict == "replace" else f"upload_file {conflict}")
        return self._store(drive_id, parent_id, filename, stream, size, conflict)

    def install(self, monkeypatch) -> FakeDrives:
        for name in (
            "delta get_item find_child children group_drive ensure_folder versions "
            "download_url download_to permanent_delete rename"
        ).split():
            monkeypatch.setattr(drives, name, getattr(self, name))
        monkeypatch.setattr(upload, "upload_file", self.upload_file)
        return self


def gone() -> PermanentGraphError:
    return PermanentGraphError(410, "resyncRequired", "token too old", "req-410", "GET", "/x")
