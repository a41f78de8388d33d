"""``/{tenant}/oauth2/v2.0/authorize``: a user picker instead of a password prompt.

GET shows the tenant's enabled users; choosing one (a POST back here carrying the same
parameters) redirects to ``redirect_uri`` with ``code`` and ``state``. Like Entra ID, problems
with the client or its redirect URI are shown on the page (the redirect URI cannot be trusted);
everything else goes back to the client as ``error`` and ``error_description``.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .. import tokens
from ..models import AuthorizationCode, SandboxUser, digest
from .common import EntraError, find_app, find_tenant, graph_scopes, redirect_uri_allowed

CODE_LIFETIME = dt.timedelta(minutes=10)
PARAMS = [
    "client_id", "response_type", "redirect_uri", "scope", "state", "nonce", "response_mode",
    "code_challenge", "code_challenge_method", "prompt", "login_hint", "client_info",
]  # fmt: skip


class _Redirect(Exception):
    """An error reported to the client through its (already checked) redirect URI."""

    def __init__(self, error: str, code: int, description: str):
        super().__init__(description)
        self.error, self.description = error, f"AADSTS{code}: {description}"


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest, tenant: str) -> HttpResponse:
    source = request.GET if request.method == "GET" else request.POST
    params = {name: source.get(name, "") for name in PARAMS}
    found = find_tenant(tenant)
    if found is None:
        return _page(request, 400, f"AADSTS90002: Tenant '{tenant}' not found.")
    try:
        app = find_app(found, params["client_id"])
    except EntraError as exc:
        return _page(request, 400, str(exc))
    redirect_uri = params["redirect_uri"] or (app.redirect_uris or [""])[0]
    if not redirect_uri_allowed(app, redirect_uri):
        return _page(
            request,
            400,
            f"AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does not "
            f"match the redirect URIs configured for the application '{app.client_id}'.",
        )
    try:
        scopes = _check(params, app)
        if request.method == "GET":
            users = SandboxUser.objects.filter(tenant=found, account_enabled=True)
            context = {"app": app, "tenant": found, "users": users, "params": params}
            return render(request, "sandbox/authorize.html", context)
        user = _chosen_user(found, request.POST.get("user", ""))
    except _Redirect as exc:
        reply = {"error": exc.error, "error_description": exc.description}
        return _answer(request, redirect_uri, params, reply)
    code = secrets.token_urlsafe(48)
    challenge = params["code_challenge"]
    # RFC 7636: a challenge without a method is "plain".
    method = (params["code_challenge_method"] or "plain") if challenge else ""
    AuthorizationCode.objects.create(
        token_hash=digest(code),
        app=app,
        user=user,
        scopes=scopes,
        expires_at=timezone.now() + CODE_LIFETIME,
        redirect_uri=redirect_uri,
        nonce=params["nonce"],
        code_challenge=challenge,
        code_challenge_method=method,
    )
    reply = {"code": code, "session_state": str(uuid.uuid4())}
    if params["client_info"] == "1":
        reply["client_info"] = tokens.client_info(user.id, found.id)
    return _answer(request, redirect_uri, params, reply)


def _check(params: dict, app) -> list[str]:
    """The scopes to grant, or _Redirect for a request Entra would refuse."""
    if params["response_type"] != "code":
        raise _Redirect(
            "unsupported_response_type",
            700054,
            f"response_type '{params['response_type']}' is not enabled for the application.",
        )
    if params["response_mode"] not in {"", "query", "fragment", "form_post"}:
        raise _Redirect("invalid_request", 900144, "The response_mode is not supported.")
    if params["code_challenge_method"] not in {"", "plain", "S256"}:
        raise _Redirect("invalid_request", 501491, "Invalid code_challenge_method parameter.")
    if params["code_challenge"] and not 43 <= len(params["code_challenge"]) <= 128:
        raise _Redirect("invalid_request", 501491, "Invalid size of Code_Challenge parameter.")
    requested = params["scope"].split()
    if not requested:
        raise _Redirect(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        )
    names = graph_scopes(requested)
    if names is None:
        raise _Redirect("invalid_scope", 70011, "The provided value for 'scope' is not valid.")
    if params["prompt"] == "none":
        # There is no sign-in session to reuse: every sign-in goes through the picker.
        raise _Redirect(
            "login_required",
            50058,
            "A silent sign-in request was sent but no user is signed in.",
        )
    if ".default" in names:
        names = [n for n in names if n != ".default"] + app.delegated_permissions
    oidc = [s for s in requested if s in {"openid", "profile", "email", "offline_access"}]
    return oidc + list(dict.fromkeys(names))


def _chosen_user(tenant, user_id: str) -> SandboxUser:
    try:
        user = SandboxUser.objects.filter(tenant=tenant, id=user_id, account_enabled=True).first()
    except ValidationError:
        user = None
    if user is None:
        raise _Redirect("access_denied", 50034, "The user account does not exist or is disabled.")
    return user


def _answer(request, redirect_uri: str, params: dict, reply: dict) -> HttpResponse:
    if params["state"]:
        reply["state"] = params["state"]
    mode = params["response_mode"] or "query"
    if mode == "form_post":
        context = {"action": redirect_uri, "fields": reply}
        return render(request, "sandbox/form_post.html", context)
    separator = "#" if mode == "fragment" else ("&" if "?" in redirect_uri else "?")
    return HttpResponseRedirect(redirect_uri + separator + urlencode(reply))


def _page(request, status: int, message: str) -> HttpResponse:
    return render(request, "sandbox/error.html", {"message": message}, status=status)


@csrf_exempt  # it only redirects to a registered URI: nothing for a forged request to gain
@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest, tenant: str) -> HttpResponse:
    """End-session endpoint. There is no session to end; go back only to a registered URI."""
    found = find_tenant(tenant)
    source = request.GET if request.method == "GET" else request.POST
    target = source.get("post_logout_redirect_uri", "")
    if found and target and any(redirect_uri_allowed(app, target) for app in found.apps.all()):
        state = source.get("state")
        return HttpResponseRedirect(target + (f"?{urlencode({'state': state})}" if state else ""))
    return _page(request, 200, "You have been signed out of the sandbox tenant.")
