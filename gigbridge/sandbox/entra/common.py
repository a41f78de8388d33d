"""What the Entra ID endpoints share: tenant lookup, errors in Entra's shape, client auth.

``basic_credentials`` also serves the Graph tools check and the Upwork token endpoint.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import uuid
from urllib.parse import unquote_plus, urlsplit

from django.http import HttpRequest, JsonResponse

from ..models import AppRegistration, Tenant, digest

OIDC_SCOPES = {"openid", "profile", "email", "offline_access"}
GRAPH = "https://graph.microsoft.com"
BOTFRAMEWORK = "https://api.botframework.com"  # the Bot Connector's resource (the sandbox's Teams)
# How a Graph scope or resource can be written: its URI or its well-known app id.
GRAPH_PREFIXES = (f"{GRAPH}/", "00000003-0000-0000-c000-000000000000/")


class EntraError(Exception):
    """An error the token endpoint answers in Entra's JSON shape (``AADSTS…`` codes)."""

    def __init__(self, error: str, code: int, description: str, status: int = 400):
        super().__init__(f"AADSTS{code}: {description}")
        self.error, self.code, self.description, self.status = error, code, description, status

    def response(self) -> JsonResponse:
        now = dt.datetime.now(dt.UTC)
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        body = {
            "error": self.error,
            "error_description": (
                f"AADSTS{self.code}: {self.description}\r\nTrace ID: {trace}\r\n"
                f"Correlation ID: {correlation}\r\nTimestamp: {stamp}"
            ),
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            # Entra's own page explaining the code: the explanation is the same here.
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }
        return JsonResponse(body, status=self.status, headers={"Cache-Control": "no-store"})


def find_tenant(segment: str) -> Tenant | None:
    """The tenant a path names, by id or by domain, as Entra accepts both."""
    try:
        return Tenant.objects.filter(id=uuid.UUID(segment)).first()
    except ValueError:
        return Tenant.objects.filter(domain__iexact=segment).first()


def tenant_not_found(segment: str) -> EntraError:
    return EntraError(
        "invalid_request",
        90002,
        f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID "
        "and are signing into the correct cloud.",
    )


def find_app(tenant: Tenant, client_id: str | None) -> AppRegistration:
    try:
        app = AppRegistration.objects.filter(tenant=tenant, client_id=uuid.UUID(client_id or ""))
    except ValueError:
        app = AppRegistration.objects.none()
    found = app.first()
    if found is None:
        raise EntraError(
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory "
            f"'{tenant.name}'. This can happen if the application has not been installed by the "
            "administrator of the tenant or consented to by any user in the tenant.",
        )
    return found


def authenticate_client(request: HttpRequest, tenant: Tenant) -> AppRegistration:
    """The app calling the token endpoint, by client_secret_basic or client_secret_post."""
    client_id, secret = basic_credentials(request)
    if client_id is None:
        client_id, secret = request.POST.get("client_id"), request.POST.get("client_secret")
    if not client_id:
        raise EntraError(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        )
    app = find_app(tenant, client_id)
    if not secret:
        raise EntraError(
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or "
            "'client_secret'.",
            status=401,
        )
    if not hmac.compare_digest(digest(secret), app.secret_hash):
        raise EntraError(
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the "
            "client secret value, not the client secret ID, for a secret added to app "
            f"'{app.client_id}'.",
            status=401,
        )
    return app


def basic_credentials(request: HttpRequest) -> tuple[str | None, str | None]:
    """Client id and secret from an HTTP Basic header, or (None, None) without a valid one."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, _, secret = decoded.partition(":")
    # RFC 6749 2.3.1: both parts are form-encoded before joining (MSAL does so).
    return unquote_plus(client_id), unquote_plus(secret)


def graph_scopes(scopes: list[str]) -> list[str] | None:
    """Delegated Graph permission names in ``scopes`` (None if another resource is asked for).

    Unqualified names mean Graph, as in Entra ID.
    """
    names = []
    for scope in scopes:
        if scope in OIDC_SCOPES:
            continue
        for prefix in GRAPH_PREFIXES:
            if scope.lower().startswith(prefix):
                scope = scope[len(prefix) :]
                break
        else:
            if "/" in scope:
                return None
        names.append(scope)
    return names


def redirect_uri_allowed(app: AppRegistration, uri: str) -> bool:
    """Exact match, except that the port of an http loopback URI is ignored (as in Entra ID)."""
    if uri in app.redirect_uris:
        return True
    asked = urlsplit(uri)
    if asked.scheme != "http" or asked.hostname not in {"127.0.0.1", "localhost", "::1"}:
        return False
    for registered in map(urlsplit, app.redirect_uris):
        if (registered.scheme, registered.hostname, registered.path, registered.query) == (
            asked.scheme,
            asked.hostname,
            asked.path,
            asked.query,
        ):
            return True
    return False
