"""``/_sandbox/files/…``: the document libraries' tools for tests and demos (Basic auth with the
outside-tools app's credentials, like every ``/_sandbox/`` tool). Errors are JSON
``{"error", "message"}`` with 400, 403 or 404, never a 500.

- ``POST /_sandbox/files/delta/expire`` ``{"driveId"}``: every delta token the drive issued so
  far becomes too old (Graph's 410 ``resyncRequired``). Answers ``{"driveId", "floor"}``.
- ``POST /_sandbox/files/upload?as=<email>&group=<group id>&path=<a/b>&name=<file name>``
  (``drive=<drive id>`` instead of ``group``; ``conflict=replace`` (default: a new version of
  the file of that name) | ``rename`` | ``fail``), the body is the file's bytes (up to
  ``MAX_TOOL_UPLOAD``, streamed to disk): an upload by that person (``people``), folders on the
  path made as them where missing. 201 (new file) or 200 (new version):
  ``{"driveId", "item": driveItem, "version": "2.0"}``. 403 ``no_access`` with the reason when
  the person may not write there; 409 ``name_exists`` under ``fail``; 404 for an unknown person,
  group or drive; 413 ``too_large``.
- ``GET /_sandbox/files/reach?as=<email>&item=<item id>`` (or ``group``/``drive`` and
  ``path=<a/b/file>``): ``{"reachable": bool, "why": "…", "canWrite": bool, "itemId",
  "driveId", "person": {"id", "displayName", "email"}}``, judged as SharePoint would (group
  membership, or a direct or inherited share not expired by the sandbox clock).
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ..graph.auth import tools_only
from ..graph.errors import GraphError
from ..models import GraphGroup
from . import changes, people
from .drives import drive_for_group, item_json, root_of, walk
from .models import Drive, DriveItem

MAX_TOOL_UPLOAD = 4 * 1024**3  # bytes
READ = 1024 * 1024


class ToolError(Exception):
    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message

    def response(self) -> JsonResponse:
        return JsonResponse({"error": self.error, "message": self.message}, status=self.status)


def _json_body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ToolError(400, "invalid_request", "the body must be a JSON object")
    return body


def _person(request: HttpRequest):
    email = request.GET.get("as", "")
    user = people.person_by_email(email)
    if user is None:
        raise ToolError(404, "not_found", f"as: no person with the address {email[:100]!r}")
    return user


def _drive_of(request: HttpRequest) -> Drive:
    if request.GET.get("drive"):
        return _drive(request.GET["drive"])
    key = request.GET.get("group", "")
    try:
        group = GraphGroup.objects.filter(id=key).first()
    except ValidationError:
        group = None
    if group is None:
        raise ToolError(404, "not_found", f"group: no group with id {key[:100]!r}")
    if "Unified" not in (group.group_types or []):
        raise ToolError(400, "invalid_request", "group: only Microsoft 365 groups have a library")
    return drive_for_group(group)


def _drive(key) -> Drive:
    drive = Drive.objects.filter(id=str(key or "")).first() if key else None
    if drive is None:
        raise ToolError(404, "not_found", f"no drive with id {str(key)[:100]!r}")
    return drive


@csrf_exempt  # Basic-authenticated tools endpoint: no cookies
@require_POST
def expire_delta(request: HttpRequest) -> HttpResponse:
    refused = tools_only(request)
    if refused:
        return refused
    try:
        drive = _drive(_json_body(request).get("driveId"))
    except ToolError as exc:
        return exc.response()
    return JsonResponse({"driveId": drive.id, "floor": changes.expire_tokens(drive)})


def _chunks(request: HttpRequest):
    while data := request.read(READ):
        yield data


@csrf_exempt  # Basic-authenticated tools endpoint: no cookies
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    refused = tools_only(request)
    if refused:
        return refused
    try:
        user = _person(request)
        drive = _drive_of(request)
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > MAX_TOOL_UPLOAD:
            raise ToolError(413, "too_large", f"at most {MAX_TOOL_UPLOAD} bytes")
        with transaction.atomic():
            folder = people.ensure_folder(user, drive, request.GET.get("path", ""))
        # The bytes are read outside any transaction (a slow client holds no lock).
        item, is_new = people.upload(
            user,
            folder,
            request.GET.get("name", ""),
            _chunks(request),
            behavior=request.GET.get("conflict", "replace"),
            max_bytes=MAX_TOOL_UPLOAD,
        )
    except people.UploadRefused as exc:
        return ToolError(exc.status, exc.error, exc.message).response()
    except ToolError as exc:
        return exc.response()
    version = item.versions.order_by("-number").first()
    body = {"driveId": drive.id, "item": item_json(item), "version": f"{version.number}.0"}
    return JsonResponse(body, status=201 if is_new else 200)


@require_GET
def reach(request: HttpRequest) -> HttpResponse:
    refused = tools_only(request)
    if refused:
        return refused
    try:
        user = _person(request)
        if request.GET.get("item"):
            item = DriveItem.objects.select_related("drive").filter(id=request.GET["item"]).first()
            if item is None:
                raise ToolError(404, "not_found", "item: no such item")
        else:
            drive = _drive_of(request)
            try:
                item = walk(root_of(drive), request.GET.get("path", ""))
            except GraphError:
                raise ToolError(404, "not_found", "path: no such item in the library") from None
    except ToolError as exc:
        return exc.response()
    found = people.reach(user, item)
    return JsonResponse(
        {
            "reachable": found.reachable,
            "why": found.why,
            "canWrite": found.can_write,
            "itemId": item.id,
            "driveId": item.drive_id,
            "person": people.identity(user)["user"],
        }
    )
