"""The sandbox clock: real time plus an offset, so tests and demos can make time pass.

What expires in this part of the emulator (sharing permissions, upload sessions,
subscriptions) is judged by ``now()``. Tokens are not: Entra's emulator signs and checks them
with real time, so moving the clock never locks the product out.

``GET /_sandbox/clock`` -> ``{"now", "offset_seconds"}``; ``POST`` with ``{"offset_seconds": n}``
(set), ``{"advance_seconds": n}`` (add) or ``{"now": "2026-12-01T09:00:00Z"}`` (set the offset
so the clock reads that instant now; an ISO 8601 datetime with ``Z`` or an offset); Basic auth
with the outside-tools app's credentials, like ``/_sandbox/control``.

Set to an instant, the clock keeps running from it, as a real server's does: objects are
ordered and polled by their timestamps, which a stopped clock would make equal. The offset is
computed here, against this server's own real time, so a client's clock does not matter.

Every change is also published for the product to follow (``..worldtime``: one world time in
the embedded default). That world time only moves forward: set back, the sandbox's clock moves
back alone, and the answer's ``world_offset_seconds`` (what the product follows) stays higher.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .. import worldtime
from ..graph.auth import tools_only
from .models import FilesSettings

log = logging.getLogger(__name__)

MAX_OFFSET = 10 * 365 * 86400  # ten years either way
KINDS = {"offset_seconds", "advance_seconds", "now"}  # what a POST may set


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
    transaction.on_commit(lambda: _publish(seconds))
    return seconds


def _publish(seconds: float) -> None:
    try:
        worldtime.publish(seconds)
    except OSError:  # the answer's world_offset_seconds shows the product kept its time
        log.exception("could not publish the sandbox clock for Gigbridge to follow")


def describe() -> dict:
    seconds = offset()
    moment = timezone.now() + dt.timedelta(seconds=seconds)
    return {
        "now": moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "offset_seconds": seconds,
        # What the product follows (forward only; None before the sandbox first started).
        "world_offset_seconds": worldtime.held(),
    }


def _instant(value) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:  # a naive time would mean this server's zone
        raise ValueError(f"now must be an ISO 8601 datetime with Z or an offset, not {value!r}")
    return moment


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
            # "now" is newer than the other two and is never combined with them.
            combined = isinstance(body, dict) and "now" in body and len(body) > 1
            if not isinstance(body, dict) or body.keys() - KINDS or combined:
                raise ValueError(
                    'send one of {"offset_seconds": n}, {"advance_seconds": n}, {"now": "ISO"}'
                )
            if "now" in body:
                wanted = (_instant(body["now"]) - timezone.now()).total_seconds()
            elif "offset_seconds" in body:
                wanted = _number(body["offset_seconds"])
            else:
                wanted = offset() + _number(body.get("advance_seconds", 0))
            if abs(wanted) > MAX_OFFSET:
                raise ValueError(f"the offset must stay within {MAX_OFFSET} seconds")
            set_offset(wanted)
        except ValueError as exc:
            return JsonResponse({"error": "invalid_clock", "message": str(exc)}, status=400)
    return JsonResponse(describe())
