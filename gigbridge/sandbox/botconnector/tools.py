"""``GET|POST /botframework/_sandbox/endpoint``: the bot's messaging endpoint, as an Azure Bot
resource's setting (HTTP Basic with the outside-tools app's client id and secret).

POST ``{"messaging_endpoint": "http://127.0.0.1:8000/hooks/teams"}`` (or form field ``url``);
answers ``{"messaging_endpoint": …}``; 400 for anything but https, or http on loopback.
"""

from __future__ import annotations

import json

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..graph.auth import tools_only
from . import delivery


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
        else:
            url = request.POST.get("messaging_endpoint") or request.POST.get("url") or ""
        try:
            with transaction.atomic():
                delivery.set_messaging_endpoint(str(url))
        except ValueError as exc:
            return JsonResponse({"error": "bad_request", "message": str(exc)}, status=400)
    return JsonResponse({"messaging_endpoint": delivery.messaging_endpoint()})
