"""Connect Gigbridge to Upwork: a page with the connection's state and a "Connect Upwork"
button (POST, CSRF-protected), and the OAuth2 callback.

Only staff and program admins may connect. The ``state`` sent to Upwork is random, kept in the
admin's session with the organization and a time stamp, checked in constant time and used once;
the callback also requires the same signed-in admin. The code exchange is the one outside call
made inside a web request: the code is short-lived and the admin waits for the answer.
"""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from gigbridge.people.actions import has_role
from gigbridge.people.models import Role

from . import auth, connection
from .errors import UpworkError
from .models import UpworkConnection

SESSION_KEY = "upwork_oauth"
STATE_TTL = 600  # seconds an authorization may take


def may_connect(user) -> bool:
    return bool(user.is_authenticated and (user.is_staff or has_role(user, Role.PROGRAM_ADMIN)))


def callback_url() -> str:
    """The redirect URI registered with the Upwork API key."""
    configured = connection.config().get("redirect_uri")
    return configured or settings.BASE_URL.rstrip("/") + reverse("upwork:callback")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def connect(request):
    if not may_connect(request.user):
        return HttpResponseForbidden("Only a program admin can connect Upwork.")
    if request.method == "POST":
        if not connection.configured():
            messages.error(request, "Set GIGBRIDGE_UPWORK_CLIENT_ID and _CLIENT_SECRET first.")
            return redirect("upwork:connect")
        state = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = {
            "state": state,
            "organization_id": request.POST.get("organization_id", "").strip()[:100],
            "user_id": request.user.pk,
            "at": time.time(),
        }
        return redirect(auth.authorization_url(state, callback_url()))
    context = {
        "configured": connection.configured(),
        "health": connection.health(),
        "connections": UpworkConnection.objects.order_by("organization_id"),
        "callback_url": callback_url(),
        "default_organization": connection.config().get("organization_id") or "",
    }
    return render(request, "upwork/connect.html", context)


@never_cache
@login_required
@require_GET
def callback(request):
    if not may_connect(request.user):
        return HttpResponseForbidden("Only a program admin can connect Upwork.")
    pending = request.session.pop(SESSION_KEY, None)
    state = request.GET.get("state", "")
    if (
        not isinstance(pending, dict)
        or not state
        or not secrets.compare_digest(str(pending.get("state", "")), state)
        or pending.get("user_id") != request.user.pk
        or time.time() - float(pending.get("at", 0)) > STATE_TTL
    ):
        return HttpResponseBadRequest(
            "This Upwork answer does not match a connection you started (or it is too old). "
            "Start again from the Upwork page."
        )
    if request.GET.get("error"):
        messages.error(request, f"Upwork did not grant access: {request.GET['error'][:100]}")
        return redirect("upwork:connect")
    code = request.GET.get("code", "")
    if not code:
        return HttpResponseBadRequest("Upwork sent no authorization code.")
    try:
        token = auth.exchange_code(code, callback_url())
    except UpworkError as exc:
        messages.error(request, f"Upwork refused the connection: {exc.message or exc}")
        return redirect("upwork:connect")
    organization = pending.get("organization_id") or ""
    auth.store_token(organization, token, user=request.user)
    connection.reset()
    messages.success(request, "Upwork is connected.")
    return redirect("upwork:connect")
