"""While no program policy is active, every page leads to the set-up wizard (/setup/).

Machines are not redirected: the API, webhooks and the health check answer as they do (the API
says what is missing), and neither are static files or the ways to sign in (a program admin
who comes through Microsoft sign-in must be able to), nor the IT admin's connection of the
marketplace (/integrations/: it needs no program)."""

from __future__ import annotations

from django.shortcuts import redirect

from .models import PolicyVersion

# Path prefixes that work before the program is defined.
OPEN_PREFIXES = (
    "/setup/",
    "/static/",
    "/healthz",
    "/api/",
    "/hooks/",
    "/login/",
    "/logout/",
    "/auth/",
    "/integrations/",
    "/favicon",
)


class SetupMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # One indexed query per page; not cached in the process, so a database that is reset
        # or restored (tests, a new installation) is never mistaken for a set-up one.
        if not request.path.startswith(OPEN_PREFIXES) and not PolicyVersion.objects.exists():
            return redirect("web:setup")
        return self.get_response(request)
