"""OIDC discovery and the signing keys, in the shape Entra ID's v2.0 endpoints publish them.

MSAL needs no instance discovery endpoint here: for a host it does not know it would ask
``login.microsoftonline.com`` (never this server), so clients pass ``instance_discovery=False``,
MSAL's documented switch for authorities it should use as they are. It then fetches only
``{authority}/v2.0/.well-known/openid-configuration``.
"""

from __future__ import annotations

import jwt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from .. import tokens
from ..models import SandboxUser
from .common import GRAPH, find_tenant, tenant_not_found

CLAIMS = (
    "sub iss aud exp iat nbf nonce name preferred_username tid ver oid email given_name family_name"
).split()


@require_GET
def openid_configuration(request: HttpRequest, tenant: str) -> JsonResponse:
    found = find_tenant(tenant)
    if found is None:
        return tenant_not_found(tenant).response()
    base = f"{settings.SANDBOX_URL}/{found.id}"
    return JsonResponse(
        {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": tokens.issuer(found),
            "request_uri_parameter_supported": False,
            # As in Entra ID, userinfo is served by "Graph" (here: the same sandbox).
            "userinfo_endpoint": f"{settings.SANDBOX_URL}/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": CLAIMS,
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "msgraph_host": settings.SANDBOX_URL.removeprefix("https://"),
        }
    )


@require_GET
def keys(request: HttpRequest, tenant: str) -> JsonResponse:
    found = find_tenant(tenant)
    if found is None:
        return tenant_not_found(tenant).response()
    return JsonResponse(tokens.jwks(found))


@require_GET
def userinfo(request: HttpRequest) -> JsonResponse:
    """OIDC userinfo for a delegated Graph token, as graph.microsoft.com/oidc/userinfo answers."""
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else ""
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        user = SandboxUser.objects.select_related("tenant").get(id=unverified.get("oid"))
        claims = tokens.verify(token, user.tenant, GRAPH)
    except (jwt.InvalidTokenError, SandboxUser.DoesNotExist, ValidationError):
        return JsonResponse(
            {
                "error": {
                    "code": "InvalidAuthenticationToken",
                    "message": "Access token is invalid.",
                }
            },
            status=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    body = {"sub": claims["sub"], "name": user.display_name}
    body.update(family_name=user.surname, given_name=user.given_name)
    if user.mail:
        body["email"] = user.mail
    return JsonResponse(body)
