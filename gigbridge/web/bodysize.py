"""A request whose declared body is larger than anything Gigbridge accepts is refused before any
of it is read.

Django caps form fields (``DATA_UPLOAD_MAX_MEMORY_SIZE``) but streams file uploads to a temporary
file whatever their size, and the upload is parsed before a view can check who is asking: a
signed-in person without the right to record agreements could make the server spool gigabytes.
The largest body Gigbridge takes is an agreement's evidence file, so that (plus room for the
form's other fields and the multipart framing) bounds every request."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from gigbridge import limits
from gigbridge.api.problems import for_machines, too_large

BODY_MAX = limits.EVIDENCE_FILE_MAX + 256 * 1024


def declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # Django reads an unparsable length as no body


class DeclaredSizeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if declared_length(request) <= BODY_MAX:
            return self.get_response(request)
        if for_machines(request):
            return too_large(BODY_MAX)
        response = TemplateResponse(request, "413.html", status=413)
        return response.render()
