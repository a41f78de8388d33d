"""``POST /upwork/graphql``: who is calling, for which organization, then the executor.

A bearer access token (from ``oauth``) is required: 401 otherwise. ``X-Upwork-API-TenantId``
picks one of the user's organizations (403 when they are not a member); without it the user's
default organization is used. Then the rate limit (per client IP) and faults (``gate``), then
everything the simulated freelancers have due (``simulate.run_due``), then the request itself.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..models import digest
from . import gate, simulate
from .api import RESOLVERS
from .executor import Context, execute
from .models import Credential, Membership

TENANT_HEADER = "X-Upwork-API-TenantId"


def _errors(status: int, message: str, **headers) -> JsonResponse:
    body = {"errors": [{"message": message, "extensions": {"code": str(status)}}]}
    return JsonResponse(body, status=status, headers=headers)


def authenticate(request: HttpRequest) -> Credential | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    found = (
        Credential.objects.select_related("app", "user")
        .filter(token_hash=digest(header[7:].strip()), kind=Credential.Kind.ACCESS)
        .first()
    )
    if found is None or found.expires_at <= timezone.now():
        return None
    return found


@csrf_exempt  # bearer-token API: no cookies
@require_POST
def graphql(request: HttpRequest) -> HttpResponse:
    credential = authenticate(request)
    if credential is None:
        return _errors(
            401, "Authentication failed: a valid access token is required.",
            **{"WWW-Authenticate": 'Bearer realm="upwork"'},
        )  # fmt: skip
    memberships = Membership.objects.select_related("organization").filter(user=credential.user)
    tenant = request.headers.get(TENANT_HEADER, "").strip()
    if tenant:
        chosen = next((m for m in memberships if m.organization_id == tenant), None)
        if chosen is None:
            return _errors(403, f"User has no access to the organization (tenant) {tenant!r}.")
    else:
        chosen = next((m for m in memberships if m.is_default), None) or memberships.first()
        if chosen is None:
            return _errors(403, "The user belongs to no organization.")
    refused = gate.check(request.META["REMOTE_ADDR"])
    if refused is not None:
        return refused
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return JsonResponse({"errors": [{"message": "Body is not valid JSON."}]}, status=400)
    simulate.run_due()
    context = Context(
        user=credential.user,
        organization=chosen.organization,
        app=credential.app,
        scopes=list(credential.app.scopes),
    )
    return JsonResponse(execute(body, context, RESOLVERS))
