"""``POST /{tenant}/oauth2/v2.0/token``: client credentials, authorization code, refresh token."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .. import tokens
from ..models import AppRegistration, AuthorizationCode, RefreshToken, SandboxUser, digest
from .common import (
    BOTFRAMEWORK,
    GRAPH,
    GRAPH_PREFIXES,
    EntraError,
    authenticate_client,
    find_tenant,
    graph_scopes,
    tenant_not_found,
)

REFRESH_LIFETIME = dt.timedelta(days=90)


@csrf_exempt  # a client-to-server API authenticated by the client secret, not a browser form
@require_POST
def token(request: HttpRequest, tenant: str) -> JsonResponse:
    found = find_tenant(tenant)
    try:
        if found is None:
            raise tenant_not_found(tenant)
        grant_type = request.POST.get("grant_type", "")
        handler = GRANTS.get(grant_type)
        if handler is None:
            raise EntraError(
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant_type}'.",
            )
        app = authenticate_client(request, found)
        with transaction.atomic():
            body = handler(request, app)
    except EntraError as exc:
        return exc.response()
    return JsonResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _client_credentials(request: HttpRequest, app: AppRegistration) -> dict:
    scope = request.POST.get("scope", "").strip()
    if not scope:
        raise EntraError(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        )
    if len(scope.split()) != 1 or not scope.endswith("/.default"):
        raise EntraError(
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows must "
            "have a scope value with /.default suffixed to the resource identifier "
            "(application ID URI).",
        )
    resource = scope.removesuffix(".default")
    if resource.lower() == f"{BOTFRAMEWORK}/":
        # A bot's token for the Bot Connector (the sandbox's Teams): no roles, its own audience.
        claims = {**_common_claims(app), "aud": BOTFRAMEWORK, "idtyp": "app"}
        claims.update(oid=str(app.service_principal_id), sub=str(app.service_principal_id))
        return _bearer(tokens.sign(claims))
    if resource.lower() not in GRAPH_PREFIXES:
        raise EntraError(
            "invalid_resource",
            500011,
            f"The resource principal named {resource.rstrip('/')} was not found in the tenant "
            f"named {app.tenant.name}.",
        )
    access = tokens.sign(
        {
            **_common_claims(app),
            "oid": str(app.service_principal_id),
            "sub": str(app.service_principal_id),
            "idtyp": "app",
            "roles": list(app.application_permissions),
        }
    )
    return _bearer(access)


def _authorization_code(request: HttpRequest, app: AppRegistration) -> dict:
    code = _redeem(AuthorizationCode, request.POST.get("code", ""), app, "code")
    if request.POST.get("redirect_uri", "") != code.redirect_uri:
        raise EntraError(
            "invalid_grant",
            500117,
            "The reply uri specified in the request does not match the reply uri used in the "
            "authorization request.",
        )
    if code.code_challenge and not _pkce_ok(code, request.POST.get("code_verifier", "")):
        raise EntraError(
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization "
            "request.",
        )
    return _user_tokens(request, app, code.user, code.scopes, code.nonce)


def _refresh_token(request: HttpRequest, app: AppRegistration) -> dict:
    grant = _redeem(RefreshToken, request.POST.get("refresh_token", ""), app, "refresh_token")
    return _user_tokens(request, app, grant.user, grant.scopes, nonce="")


GRANTS = {
    "client_credentials": _client_credentials,
    "authorization_code": _authorization_code,
    "refresh_token": _refresh_token,
}


def _redeem(model, value: str, app: AppRegistration, name: str):
    """The stored grant for ``value``, marked used; EntraError if it cannot be redeemed."""
    if not value:
        raise EntraError(
            "invalid_request",
            900144,
            f"The request body must contain the following parameter: '{name}'.",
        )
    grant = model.objects.select_related("user", "app").filter(token_hash=digest(value)).first()
    if grant is None or grant.app_id != app.pk:
        raise EntraError(
            "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
        )
    if grant.used_at is not None:
        if model is AuthorizationCode:
            raise EntraError(
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid "
                "code or use an existing refresh token.",
            )
        raise EntraError(
            "invalid_grant", 70000, "Provided grant is invalid or malformed (already used)."
        )
    if grant.expires_at <= timezone.now():
        raise EntraError(
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity.",
        )
    if not grant.user.account_enabled:
        raise EntraError("invalid_grant", 50057, "The user account is disabled.")
    grant.used_at = timezone.now()
    grant.save(update_fields=["used_at"])
    return grant


def _pkce_ok(code: AuthorizationCode, verifier: str) -> bool:
    if code.code_challenge_method == "S256":
        hashed = hashlib.sha256(verifier.encode()).digest()
        verifier = base64.urlsafe_b64encode(hashed).rstrip(b"=").decode()
    return bool(verifier) and hmac.compare_digest(verifier, code.code_challenge)


def _user_tokens(request, app: AppRegistration, user: SandboxUser, scopes, nonce: str) -> dict:
    graph = graph_scopes(scopes) or []
    person = {
        "oid": str(user.id),
        "sub": tokens.pairwise_sub(user.id, app.client_id),
        "name": user.display_name,
        "preferred_username": user.user_principal_name,
    }
    access = tokens.sign(
        {
            **_common_claims(app),
            **person,
            "upn": user.user_principal_name,
            "given_name": user.given_name,
            "family_name": user.surname,
            "idtyp": "user",
            "scp": " ".join(graph),
        }
    )
    body = _bearer(access)
    body["scope"] = " ".join(graph + [s for s in scopes if s in {"openid", "profile", "email"}])
    if "openid" in scopes:
        claims = {**person, "aud": str(app.client_id), "iss": tokens.issuer(app.tenant)}
        claims.update(tid=str(app.tenant_id), ver="2.0")
        if nonce:
            claims["nonce"] = nonce
        if "email" in scopes and user.mail:
            claims["email"] = user.mail
        body["id_token"] = tokens.sign(claims)
    if "offline_access" in scopes:
        refresh = secrets.token_urlsafe(64)
        RefreshToken.objects.create(
            token_hash=digest(refresh),
            app=app,
            user=user,
            scopes=scopes,
            expires_at=timezone.now() + REFRESH_LIFETIME,
        )
        body["refresh_token"] = refresh
    if request.POST.get("client_info") == "1":
        body["client_info"] = tokens.client_info(user.id, app.tenant_id)
    return body


def _common_claims(app: AppRegistration) -> dict:
    return {
        "aud": GRAPH,
        "iss": tokens.issuer(app.tenant),
        "tid": str(app.tenant_id),
        "azp": str(app.client_id),
        "appid": str(app.client_id),
        "app_displayname": app.display_name,
        "ver": "2.0",
    }


def _bearer(access_token: str) -> dict:
    lifetime = tokens.LIFETIME
    return {
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    }
