"""``GET /drives/{d}/root/delta`` (and ``/groups/{g}/drive/root/delta``): a drive's changes, as
Graph documents driveItem delta.

- No ``token``: the drive's current items (the root first, a folder before what was made in
  it), in pages of ``$top`` (default 100, at most 999) with an ``@odata.nextLink``, then a last
  page with an ``@odata.deltaLink``. Both are absolute URLs on Graph's base
  (``…/drives/{d}/root/delta?token=…``); clients follow them as they are.
- ``token`` from a deltaLink: what changed since, each changed item once in its latest state
  (the same driveItem JSON as ``GET …/items/{id}``, parents included since their eTag and size
  changed), a deleted one as ``{"id", "name", "deleted": {"state": "deleted"},
  "parentReference": {"driveId", "driveType", "siteId", "id"}, "file"|"folder"}``. Paged the
  same way; nothing changed is an empty page with a deltaLink.
- ``token=latest``: no items and a deltaLink for now (changes from here on).
- A token this drive did not issue, or one older than what the change log still holds
  (``changes``; ``POST /_sandbox/files/delta/expire`` makes every token so far too old): 410
  ``resyncRequired`` with a ``Location`` of a fresh delta request (no token), as Graph answers
  when the client must enumerate again.

A page is a window ``(s, e]`` of the change log fixed on its first page: what changes while a
client pages shows up in its next delta round (perhaps also in this one, in its new state).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from django.db.models import Max, Min

from ..graph.dispatch import GraphRequest, GraphResponse, ok
from ..graph.errors import GraphError
from ..graph.paging import page_size
from .drives import READ, find_drive, group_drive, item_json, site_host
from .models import Drive, DriveChange, DriveItem
from .routing import regex_route


def _tag(drive: Drive) -> str:
    return hashlib.sha256(drive.id.encode()).hexdigest()[:8]


def _encode(drive: Drive, state: dict) -> str:
    raw = json.dumps({"d": _tag(drive), **state}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(drive: Drive, token: str) -> dict | None:
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(state, dict) or state.get("d") != _tag(drive):
        return None
    numbers = {k: state.get(k) for k in ("s", "e", "a")}
    if any(v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0)
           for v in numbers.values()):  # fmt: skip
        return None
    return state


def _link(request: GraphRequest, drive: Drive, state: dict | None, top: str | None = None) -> str:
    params = {}
    if top:
        params["$top"] = top
    if state is not None:
        params["token"] = _encode(drive, state)
    return request.link(f"/drives/{drive.id}/root/delta", params)


def resync(request: GraphRequest, drive: Drive) -> GraphError:
    return GraphError(
        410,
        "resyncRequired",
        "The delta token is no longer valid (too old, or not issued for this drive): "
        "enumerate the drive again with a delta request without a token.",
        {"Location": _link(request, drive, None)},
    )


def tombstone(drive: Drive, change: DriveChange) -> dict:
    reference = {
        "driveType": "documentLibrary",
        "driveId": drive.id,
        "siteId": f"{site_host()},{drive.site_id},{drive.web_id}",
    }
    if change.parent_id:
        reference["id"] = change.parent_id
    body = {
        "id": change.item_id,
        "name": change.name,
        "deleted": {"state": "deleted"},
        "parentReference": reference,
    }
    if change.is_folder:
        body["folder"] = {"childCount": 0}
    else:
        body["file"] = {}
    return body


def _full_page(drive: Drive, state: dict, size: int) -> tuple[list[dict], int | None]:
    items = list(
        DriveItem.objects.filter(
            drive=drive, first_change__gt=state.get("a", 0), first_change__lte=state["e"]
        )
        .select_related("drive", "parent")
        .order_by("first_change")[: size + 1]
    )
    more = len(items) > size
    items = items[:size]
    after = items[-1].first_change if more else None
    return [item_json(i) for i in items], after


def _changes_page(drive: Drive, state: dict, size: int) -> tuple[list[dict], int | None]:
    window = DriveChange.objects.filter(drive=drive, seq__gt=state["s"], seq__lte=state["e"])
    rows = list(
        window.values("item_id")
        .annotate(first=Min("seq"), last=Max("seq"))
        .filter(first__gt=state.get("a", 0))
        .order_by("first")[: size + 1]
    )
    more = len(rows) > size
    rows = rows[:size]
    ids = [row["item_id"] for row in rows]
    live = {
        i.id: i for i in DriveItem.objects.filter(drive=drive, id__in=ids).select_related("drive")
    }
    last = {c.item_id: c for c in window.filter(seq__in=[row["last"] for row in rows])}
    value = [item_json(live[key]) if key in live else tombstone(drive, last[key]) for key in ids]
    return value, (rows[-1]["first"] if more else None)


def delta(request: GraphRequest, drive: Drive) -> GraphResponse:
    size = page_size(request)
    context = f"{request.base}/$metadata#Collection(driveItem)"
    raw = request.query.get("token")
    drive.refresh_from_db(fields=["last_change", "delta_floor"])
    if raw is not None and raw.strip().lower() == "latest":
        return ok(
            {
                "@odata.context": context,
                "value": [],
                "@odata.deltaLink": _link(request, drive, {"s": drive.last_change}),
            }
        )
    if raw is None or not raw.strip():
        state = {"f": 1, "e": drive.last_change, "a": 0}
    else:
        state = _decode(drive, raw.strip())
        if state is None:
            raise resync(request, drive)
        if not state.get("f"):
            state.setdefault("e", drive.last_change)
            start = state.get("s")
            if start is None or start < drive.delta_floor or start > drive.last_change:
                raise resync(request, drive)
        elif state.get("e") is None or state["e"] > drive.last_change:
            raise resync(request, drive)
    if state.get("f"):
        value, after = _full_page(drive, state, size)
    else:
        value, after = _changes_page(drive, state, size)
    body: dict = {"@odata.context": context, "value": value}
    if after is not None:
        body["@odata.nextLink"] = _link(
            request, drive, {**state, "a": after}, request.query.get("$top")
        )
    else:
        body["@odata.deltaLink"] = _link(request, drive, {"s": state["e"]})
    return ok(body)


def _root_delta(request: GraphRequest, drive: Drive, item: str | None, fn_token) -> GraphResponse:
    if item and item.lower() != "root":
        root = DriveItem.objects.filter(drive=drive, parent__isnull=True).first()
        if root is None or root.id != item:
            raise GraphError(
                400,
                "invalidRequest",
                "delta is supported on the root of a document library only (root/delta).",
            )
    if fn_token is not None:  # the function-call spelling: delta(token='…')
        request.query = {**request.query, "token": fn_token.replace("''", "'")}
    return delta(request, drive)


# ``root/delta``, ``items/{root id}/delta`` (Microsoft's SDKs), ``delta()`` and
# ``delta(token='…')``; more specific than the drive items' routes (``params`` ranks them first).
_TAIL = r"/(?:root|items/(?P<item>[^/]+))/delta(?:\(token='(?P<fn_token>(?:[^']|'')*)'\))?"


@regex_route("GET", r"/drives/(?P<key>[^/]+)" + _TAIL, permissions=READ, params=1)
def drive_delta(request: GraphRequest, key: str, item=None, fn_token=None) -> GraphResponse:
    return _root_delta(request, find_drive(request, key), item, fn_token)


@regex_route("GET", r"/groups/(?P<key>[^/]+)/drive" + _TAIL, permissions=READ, params=1)
def group_delta(request: GraphRequest, key: str, item=None, fn_token=None) -> GraphResponse:
    return _root_delta(request, group_drive(request, key), item, fn_token)
