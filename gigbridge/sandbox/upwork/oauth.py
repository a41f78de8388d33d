"""Upwork's OAuth2 endpoints: the authorize page (a user picker) and the token endpoint.

- ``GET /upwork/ab/account-security/oauth2/authorize?response_type=code&client_id=…&
  redirect_uri=…&state=…`` shows the client users; choosing one (a POST back with the same
  parameters) redirects to ``redirect_uri`` with ``code`` and ``state``. A wrong client or
  redirect URI is shown on the page; other problems go back as ``error``. PKCE
  (``code_challenge``, S256 or plain) is honoured when sent.
- ``POST /upwork/api/v3/oauth2/token`` (form-encoded; client id and secret in the body or HTTP
  Basic) with ``grant_type`` ``authorization_code`` (``code``, ``redirect_uri``,
  ``code_verifier``), ``refresh_token`` (``refresh_token``; it is rotated) or
  ``client_credentials`` (a token for the app's owner). Answers ``access_token``,
  ``refresh_token``, ``token_type`` ("Bearer") and ``expires_in`` (86400).

Tokens are opaque (``oauth2v2_…``), stored hashed, and expire on real time (not the sandbox
clock), so moving the clock never locks a client out.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from urllib.parse import urlencode, urlsplit

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from ..entra.common import basic_credentials
from ..models import digest
from .models import App, ClientUser, Credential

ACCESS_LIFETIME = dt.timedelta(seconds=86400)
REFRESH_LIFETIME = dt.timedelta(days=14)
CODE_LIFETIME = dt.timedelta(minutes=10)
PARAMS = ["response_type", "client_id", "redirect_uri", "state", "code_challenge",
          "code_challenge_method"]  # fmt: skip


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def response(self) -> JsonResponse:
        body = {"error": self.error, "error_description": self.description}
        return JsonResponse(body, status=self.status, headers={"Cache-Control": "no-store"})


def redirect_allowed(app: App, uri: str) -> bool:
    """Exact match, or a registered http loopback URI on another port."""
    if uri in app.redirect_uris:
        return True
    asked = urlsplit(uri)
    if asked.scheme != "http" or asked.hostname not in {"127.0.0.1", "localhost", "::1"}:
        return False
    return any(
        (r.scheme, r.hostname, r.path) == (asked.scheme, asked.hostname, asked.path)
        for r in map(urlsplit, app.redirect_uris)
    )


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    source = request.GET if request.method == "GET" else request.POST
    params = {name: source.get(name, "") for name in PARAMS}
    app = App.objects.filter(client_id=params["client_id"]).first()
    if app is None:
        return _page(request, 400, f"Unknown client_id {params['client_id']!r}.")
    redirect_uri = params["redirect_uri"] or (app.redirect_uris or [""])[0]
    if not redirect_allowed(app, redirect_uri):
        return _page(request, 400, f"The redirect_uri {redirect_uri!r} is not registered.")
    if params["response_type"] != "code":
        return _back(redirect_uri, params, {"error": "unsupported_response_type"})
    if request.method == "GET":
        users = ClientUser.objects.prefetch_related("organizations")
        context = {"app": app, "users": users, "params": params}
        return render(request, "sandbox_upwork/authorize.html", context)
    user = ClientUser.objects.filter(id=request.POST.get("user", "")).first()
    if user is None:
        return _back(redirect_uri, params, {"error": "access_denied"})
    code = secrets.token_urlsafe(32)
    challenge = params["code_challenge"]
    if challenge and params["code_challenge_method"] == "S256":
        challenge = "S256:" + challenge
    Credential.objects.create(
        token_hash=digest(code),
        kind=Credential.Kind.CODE,
        app=app,
        user=user,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        expires_at=timezone.now() + CODE_LIFETIME,
    )
    return _back(redirect_uri, params, {"code": code})


def _back(redirect_uri: str, params: dict, reply: dict) -> HttpResponse:
    if params["state"]:
        reply["state"] = params["state"]
    separator = "&" if "?" in redirect_uri else "?"
    return HttpResponseRedirect(redirect_uri + separator + urlencode(reply))


def _page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return render(request, "sandbox/error.html", {"message": message}, status=status)


@csrf_exempt  # a token endpoint: clients authenticate with their secret, not cookies
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    try:
        app = _client(request)
        grant = request.POST.get("grant_type", "")
        with transaction.atomic():
            if grant == "authorization_code":
                user = _redeem_code(request, app)
            elif grant == "refresh_token":
                user = _redeem(request.POST.get("refresh_token", ""), Credential.Kind.REFRESH, app)
            elif grant == "client_credentials":
                user = app.owner
            else:
                raise OAuthError("unsupported_grant_type", f"Unsupported grant_type {grant!r}.")
            return JsonResponse(issue(app, user), headers={"Cache-Control": "no-store"})
    except OAuthError as exc:
        return exc.response()


def issue(app: App, user: ClientUser) -> dict:
    access, refresh = "oauth2v2_" + secrets.token_hex(16), "oauth2v2_" + secrets.token_hex(16)
    now = timezone.now()
    for value, kind, lifetime in (
        (access, Credential.Kind.ACCESS, ACCESS_LIFETIME),
        (refresh, Credential.Kind.REFRESH, REFRESH_LIFETIME),
    ):
        Credential.objects.create(
            token_hash=digest(value), kind=kind, app=app, user=user, expires_at=now + lifetime
        )
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": int(ACCESS_LIFETIME.total_seconds()),
    }


def _client(request: HttpRequest) -> App:
    client_id, secret = basic_credentials(request)
    if client_id is None:
        client_id, secret = request.POST.get("client_id"), request.POST.get("client_secret")
    app = App.objects.filter(client_id=client_id or "").first()
    if app is None or not secret or not hmac.compare_digest(digest(secret), app.secret_hash):
        raise OAuthError("invalid_client", "Client authentication failed.", status=401)
    return app


def _redeem(value: str, kind: str, app: App, *, lock: bool = True) -> ClientUser:
    """The user of a one-time credential, marking it used; OAuthError when it is not valid."""
    found = (
        Credential.objects.select_related("user")
        .filter(token_hash=digest(value), kind=kind, app=app)
        .first()
    )
    if found is None or found.used_at is not None or found.expires_at <= timezone.now():
        raise OAuthError("invalid_grant", f"The {kind} is invalid, expired or already used.")
    found.used_at = timezone.now()
    found.save(update_fields=["used_at"])
    return found.user


def _redeem_code(request: HttpRequest, app: App) -> ClientUser:
    value = request.POST.get("code", "")
    found = Credential.objects.filter(
        token_hash=digest(value), kind=Credential.Kind.CODE, app=app
    ).first()
    if found is not None:
        if request.POST.get("redirect_uri", found.redirect_uri) != found.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorize call.")
        if found.code_challenge and not _verifier_ok(
            found.code_challenge, request.POST.get("code_verifier", "")
        ):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge.")
    return _redeem(value, Credential.Kind.CODE, app)


def _verifier_ok(challenge: str, verifier: str) -> bool:
    if challenge.startswith("S256:"):
        hashed = hashlib.sha256(verifier.encode()).digest()
        computed = base64.urlsafe_b64encode(hashed).rstrip(b"=").decode()
        return hmac.compare_digest(computed, challenge[5:])
    return hmac.compare_digest(verifier, challenge)
