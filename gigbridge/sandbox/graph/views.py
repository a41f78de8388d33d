"""The HTTP face of the Graph emulator: ``/v1.0/…`` in, Graph's JSON and headers out.

Every answer carries ``request-id`` (new) and ``client-request-id`` (the client's, else the
request id), as Graph's do. The dials' latency is added before anything else happens.
"""

from __future__ import annotations

import json
import time
import uuid

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import batch
from .auth import authenticate
from .dispatch import JSON_TYPE, GraphRequest, GraphResponse, execute, normalize
from .errors import GraphError, error_body
from .throttle import settings_row


@csrf_exempt  # bearer tokens, no cookies: nothing for a forged cross-site request to use
def graph(request: HttpRequest, rest: str = "") -> HttpResponse:
    request_id = str(uuid.uuid4())
    client_request_id = request.headers.get("client-request-id") or request_id
    latency = settings_row().latency_ms
    if latency:
        time.sleep(latency / 1000)
    try:
        principal = authenticate(request.headers.get("Authorization", ""))
    except GraphError as exc:
        body = error_body(exc.code, exc.message, request_id, client_request_id)
        answer = GraphResponse(exc.status, body, exc.headers)
    else:
        call = GraphRequest(
            method=request.method or "GET",
            path="/" + rest,
            query={key: request.GET.get(key, "") for key in request.GET},
            headers={key.lower(): value for key, value in request.headers.items()},
            body=request.body,
            principal=principal,
            request_id=request_id,
            client_request_id=client_request_id,
        )
        if normalize(call.path).lower() == "/$batch" and call.method == "POST":
            answer = batch.run(call)
        else:
            answer = execute(call)
    return _http(answer, request_id, client_request_id)


def _http(answer: GraphResponse, request_id: str, client_request_id: str) -> HttpResponse:
    if answer.body is None:
        response = HttpResponse(status=answer.status)
        del response["Content-Type"]
    else:
        response = HttpResponse(
            json.dumps(answer.body), status=answer.status, content_type=JSON_TYPE
        )
        response["OData-Version"] = "4.0"
    for name, value in answer.headers.items():
        response[name] = value
    response["request-id"] = request_id
    response["client-request-id"] = client_request_id
    response["Cache-Control"] = "no-cache"
    return response
