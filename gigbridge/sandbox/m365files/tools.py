"""``/_sandbox/files/…``: the document libraries' tools for tests and demos (Basic auth with the
outside-tools app's credentials, like every ``/_sandbox/`` tool). Errors are JSON
``{"error", "message"}`` with 400, 403 or 404, never a 500.

- ``POST /_sandbox/files/delta/expire`` ``{"driveId"}``: every delta token the drive issued so
  far becomes too old (Graph's 410 ``resyncRequired``). Answers ``{"driveId", "floor"}``.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..graph.auth import tools_only
from . import changes
from .models import Drive


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
