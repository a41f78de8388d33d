"""Who is calling: a bearer token this sandbox's Entra emulator issued for Microsoft Graph.

The token's ``tid`` names the tenant (whose issuer it must carry); signature, audience, issuer
and lifetime are checked with ``tokens.verify``. App-only tokens (``idtyp: app``) grant their
``roles``; delegated ones their ``scp`` on behalf of the signed-in user (``oid``).

Also the Basic check for the ``/_sandbox/`` tools endpoints of every part (``tools_only``: 401
otherwise): the outside-tools app's client id and secret, the credentials ``gigbridge sandbox
info`` prints.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass

import jwt
from django.conf import settings
from django.http import HttpRequest, JsonResponse

from .. import tokens
from ..defaults import OUTSIDE_TOOLS
from ..entra.common import GRAPH, basic_credentials
from ..models import AppRegistration, SandboxUser, Tenant, digest
from .errors import GraphError

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


@dataclass
class Principal:
    tenant: Tenant
    client_id: str
    app_only: bool
    permissions: frozenset[str]
    user: SandboxUser | None = None  # the signed-in user of a delegated token

    def allows(self, permissions: tuple[str, ...]) -> bool:
        return bool(self.permissions.intersection(permissions))


def unauthorized(message: str) -> GraphError:
    challenge = (
        f'Bearer realm="", authorization_uri="{settings.SANDBOX_URL}/common/oauth2/authorize", '
        f'client_id="{GRAPH_APP_ID}"'
    )
    return GraphError(
        401, "InvalidAuthenticationToken", message, headers={"WWW-Authenticate": challenge}
    )


def authenticate(header: str) -> Principal:
    """The caller of a request with this Authorization header; GraphError 401 otherwise."""
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("Access token is empty.")
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        tenant = Tenant.objects.filter(id=uuid.UUID(str(unverified.get("tid")))).first()
    except (jwt.InvalidTokenError, ValueError):
        raise unauthorized("Access token validation failure. Invalid token.") from None
    if tenant is None:
        raise unauthorized("Access token validation failure. Invalid issuer.")
    try:
        claims = tokens.verify(token, tenant, GRAPH)
    except jwt.ExpiredSignatureError:
        raise unauthorized("Lifetime validation failed, the token is expired.") from None
    except jwt.InvalidAudienceError:
        raise unauthorized("Access token validation failure. Invalid audience.") from None
    except jwt.InvalidIssuerError:
        raise unauthorized("Access token validation failure. Invalid issuer.") from None
    except jwt.InvalidTokenError:
        raise unauthorized("Access token validation failure.") from None
    client_id = str(claims.get("appid") or claims.get("azp") or "")
    if not AppRegistration.objects.filter(tenant=tenant, client_id=_uuid(client_id)).exists():
        raise unauthorized("Access token validation failure. The application does not exist.")
    if claims.get("idtyp") == "app" or "scp" not in claims:
        return Principal(tenant, client_id, True, frozenset(claims.get("roles") or []))
    user = SandboxUser.objects.filter(
        tenant=tenant, id=_uuid(claims.get("oid")), account_enabled=True
    ).first()
    if user is None:
        raise unauthorized("Access token validation failure. The user does not exist.")
    scopes = frozenset(str(claims.get("scp") or "").split())
    return Principal(tenant, client_id, False, scopes, user)


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def tools_app(request: HttpRequest) -> AppRegistration | None:
    """The outside-tools app when the request carries its client id and secret (Basic)."""
    return tools_app_for(*basic_credentials(request))


def tools_app_for(client_id: str | None, secret: str | None) -> AppRegistration | None:
    """The outside-tools app if ``client_id`` and ``secret`` are its (Basic, or the viewer's
    sign-in form)."""
    if not client_id or not secret:
        return None
    app = AppRegistration.objects.filter(
        display_name=OUTSIDE_TOOLS, client_id=_uuid(client_id)
    ).first()
    if app is None or not hmac.compare_digest(digest(secret), app.secret_hash):
        return None
    return app


def tools_only(request: HttpRequest) -> JsonResponse | None:
    """401 unless the request carries the outside-tools app's id and secret (HTTP Basic)."""
    if tools_app(request) is None:
        return JsonResponse(
            {
                "error": "unauthorized",
                "message": "Use the outside-tools app's client id and secret (HTTP Basic).",
            },
            status=401,
            headers={"WWW-Authenticate": 'Basic realm="gigbridge-sandbox"'},
        )
    return None
