"""The sandbox clock: real time plus an offset, so tests and demos can make time pass.

What expires in this part of the emulator (sharing permissions, upload sessions,
subscriptions) is judged by ``now()``. Tokens are not: Entra's emulator signs and checks them
with real time, so moving the clock never locks the product out.

``GET /_sandbox/clock`` -> ``{"now", "offset_seconds"}``; ``POST`` with ``{"offset_seconds": n}``
(set) or ``{"advance_seconds": n}`` (add); Basic auth with the outside-tools app's credentials,
like ``/_sandbox/control``.
"""

from __future__ import annotations

import datetime as dt
import json
import math

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..graph.auth import tools_only
from .models import FilesSettings

MAX_OFFSET = 10 * 365 * 86400  # ten years either way


def settings_row() -> FilesSettings:
    row = FilesSettings.objects.filter(pk=1).first()
    return row if row is not None else FilesSettings(pk=1)


def offset() -> float:
    return settings_row().clock_offset_seconds


def now() -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=offset())


def set_offset(seconds: float) -> float:
    row, _ = FilesSettings.objects.get_or_create(pk=1)
    row.clock_offset_seconds = seconds
    row.updated = timezone.now()
    row.save()
    return seconds


def describe() -> dict:
    moment = now()
    return {
        "now": moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "offset_seconds": offset(),
    }


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"expected a number of seconds, not {value!r}")
    return float(value)


@csrf_exempt  # Basic-authenticated tools endpoint: no cookies
@require_http_methods(["GET", "POST"])
def clock_view(request: HttpRequest) -> HttpResponse:
    refused = tools_only(request)
    if refused:
        return refused
    if request.method == "POST":
        try:
            body = json.loads(request.body or b"{}")
            if not isinstance(body, dict) or not body.keys() <= {
                "offset_seconds",
                "advance_seconds",
            }:
                raise ValueError('send {"offset_seconds": n} or {"advance_seconds": n}')
            if "offset_seconds" in body:
                wanted = _number(body["offset_seconds"])
            else:
                wanted = offset() + _number(body.get("advance_seconds", 0))
            if abs(wanted) > MAX_OFFSET:
                raise ValueError(f"the offset must stay within {MAX_OFFSET} seconds")
            set_offset(wanted)
        except ValueError as exc:
            return JsonResponse({"error": "invalid_clock", "message": str(exc)}, status=400)
    return JsonResponse(describe())
