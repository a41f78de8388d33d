"""Django's error views (handler400/403/404/500 in urls.py): problem+json for machines, pages
for people.

Under /api/ and /hooks/ the answer is ``application/problem+json`` with a fixed detail (never
the exception's text, which can hold URL patterns or internals); elsewhere the templates
400/403/404/413/500.html, which render with DEBUG off. A body over
DATA_UPLOAD_MAX_MEMORY_SIZE reaches Django as a 400 (RequestDataTooBig); it is answered 413.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.views import defaults

from gigbridge.api.problems import for_machines, problem, too_large


def bad_request(request, exception):
    if isinstance(exception, RequestDataTooBig):
        if for_machines(request):
            return too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        response = defaults.bad_request(request, exception, template_name="413.html")
        response.status_code = 413
        return response
    if for_machines(request):
        return problem(400, detail="the request could not be understood")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if for_machines(request):
        return problem(403, detail="you may not do this")
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if for_machines(request):
        return problem(404, detail="no such path")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if for_machines(request):
        return problem(500, detail="the error was logged")
    return defaults.server_error(request)
