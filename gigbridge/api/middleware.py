"""Every error answer under /api/ and /hooks/ is ``application/problem+json``.

Most errors there are made by the API's exception handlers and the error views in
``gigbridge/errors.py``; a few are made by code that knows nothing of problems: ninja's and
Django's 405 (``Method not allowed``, an empty or text body), a CSRF refusal, a view returning a
bare ``HttpResponse(status=...)``. This middleware rewrites those bodies in place, keeping the
status and the headers (``Allow``, ``Retry-After``, ``WWW-Authenticate``), so a machine client
always gets the shape the API description promises.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse

from .parsing import MAX_ERRORS, MESSAGE, nul_fields
from .problems import CONTENT_TYPE, for_machines, invalid_fields, problem

_DETAILS = {
    404: "no such path",
    405: "method not allowed here",
}


def _detail(request: HttpRequest, response: HttpResponse) -> str:
    if response.status_code == 405 and response.has_header("Allow"):
        return f"{request.method} is not allowed here; allowed: {response['Allow']}"
    if response.get("Content-Type", "").startswith("application/json"):
        try:  # ninja's own {"detail": "..."} shape
            detail = json.loads(response.content).get("detail")
        except (ValueError, AttributeError):
            detail = None
        if isinstance(detail, str):
            return detail[:500]
    return _DETAILS.get(response.status_code, "")


class ProblemMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not for_machines(request)
            or response.streaming
            # OData answers carry their own error shape (the analytics feed, OData-Version).
            or response.has_header("OData-Version")
            or response.get("Content-Type", "").startswith(CONTENT_TYPE)
        ):
            return response
        replacement = problem(response.status_code, detail=_detail(request, response))
        response.content = replacement.content
        response["Content-Type"] = CONTENT_TYPE
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response


class RefuseNulMiddleware:
    """A JSON body with U+0000 in a string is a 422 naming the field (see ``parsing``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only a JSON escape can put U+0000 in a JSON string: parse only bodies that have one.
        if (
            request.path.startswith("/api/")
            and request.content_type == "application/json"
            and b"\\u0000" in request.body
        ):
            try:
                paths = nul_fields(json.loads(request.body), [])
            except ValueError:
                paths = []  # not JSON: ninja answers 400
            if paths:
                return invalid_fields(
                    [
                        {"field": ".".join(map(str, p)) or "(body)", "message": MESSAGE}
                        for p in paths[:MAX_ERRORS]
                    ]
                )
        return self.get_response(request)
