"""``GET|POST /botframework/_sandbox/endpoint``: the bot's messaging endpoint, as an Azure Bot
resource's setting (HTTP Basic with the outside-tools app's client id and secret).

POST ``{"messaging_endpoint": "http://127.0.0.1:8000/hooks/teams"}`` (or form field ``url``),
and/or ``{"throttle": {"next_requests": 3, "retry_after": 2}}``: the next 3 Bot Connector calls
answer 429 with ``Retry-After: 2``. Answers the current settings; 400 for an endpoint that is
not https or http on loopback, or a bad throttle.
"""

from __future__ import annotations

import json

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..graph.auth import tools_only
from . import delivery
from .models import BotSettings


@csrf_exempt  # a tools API with Basic credentials, not a browser form
@require_http_methods(["GET", "POST"])
def endpoint(request: HttpRequest) -> HttpResponse:
    refused = tools_only(request)
    if refused is not None:
        return refused
    if request.method == "POST":
        if request.content_type == "application/json":
            try:
                body = json.loads(request.body or b"{}")
            except (ValueError, UnicodeDecodeError):
                body = None
            if not isinstance(body, dict):
                return JsonResponse({"error": "bad_request", "message": "JSON object"}, status=400)
            url = body.get("messaging_endpoint") or body.get("url") or ""
            throttle = body.get("throttle")
        else:
            url = request.POST.get("messaging_endpoint") or request.POST.get("url") or ""
            throttle = None
        try:
            with transaction.atomic():
                if url or throttle is None:
                    delivery.set_messaging_endpoint(str(url))
                if throttle is not None:
                    _set_throttle(throttle)
        except ValueError as exc:
            return JsonResponse({"error": "bad_request", "message": str(exc)}, status=400)
    row = BotSettings.current()
    answer = {"messaging_endpoint": row.messaging_endpoint}
    if row.throttle_next:
        answer["throttle"] = {"next_requests": row.throttle_next, "retry_after": row.retry_after}
    return JsonResponse(answer)


def _set_throttle(throttle) -> None:
    if not isinstance(throttle, dict):
        raise ValueError("throttle: an object with next_requests and retry_after")
    count, wait = throttle.get("next_requests", 0), throttle.get("retry_after", 1)
    if not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10000 for v in (count, wait)
    ):
        raise ValueError("throttle: next_requests and retry_after are whole numbers")
    BotSettings.objects.filter(pk=BotSettings.current().pk).update(
        throttle_next=count, retry_after=wait
    )
