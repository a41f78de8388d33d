"""The viewers' tools: sign in with the outside-tools app's credentials, move the clock forward.

The viewers (``/`` for the tenant, ``/upwork/`` for the marketplace) are read-only for anyone on
this machine. Their tools are the sandbox's, not the product's, and take what the other
``/_sandbox/`` tools take: the outside-tools app's client id and secret (``gigbridge sandbox
info`` prints them), typed once into the viewer's sign-in form. Signed in, a person sees the
bodies of the mail the tenant sent (links in them sign people in or redeem invitations) and can
move the sandbox clock forward, which the product follows (``gigbridge.worldclock``).

- ``POST /_sandbox/viewer/sign-in`` (``client_id``, ``client_secret``, ``next``): a cookie signed
  with the sandbox's key, holding the app's client id and a fingerprint of its secret's hash
  (a new secret ends every sign-in), for ``MAX_AGE``; HttpOnly, Secure, SameSite=Lax.
- ``POST /_sandbox/viewer/sign-out`` (``next``).
- ``POST /_sandbox/viewer/clock`` (``advance``: ``hour`` | ``day`` | ``week``, or ``date``:
  ``YYYY-MM-DD``, a day after the sandbox's today, reached at the same time of day; ``next``):
  moves the clock forward only (the product's world time never goes back). The simulated
  freelancers do what became due when the marketplace is next asked (``upwork.simulate``).
- ``GET /_sandbox/viewer.css``: the viewers' stylesheet (their CSP allows no inline style).

Every form carries Django's CSRF token; refusals are pages that say why (403 signed out, 400
for a bad date), never a 500.
"""

from __future__ import annotations

import datetime as dt
import hmac
import uuid
from functools import wraps
from pathlib import Path

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from . import worldtime
from .defaults import OUTSIDE_TOOLS
from .graph.auth import tools_app_for
from .m365files import clock
from .models import AppRegistration

COOKIE = "gigbridge_sandbox_tools"
SALT = "gigbridge.sandbox.viewer-tools"
MAX_AGE = 8 * 3600  # seconds a viewer sign-in lasts
STEPS = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1), "week": dt.timedelta(weeks=1)}
VIEWERS = (
    "/",
    "/upwork/",
    "/teams/",
    "/files/",
    "/sites/",
)  # where ``next`` may lead: the viewers, nothing else
SHOWN_APART = dt.timedelta(minutes=1)  # world time this far from the sandbox's is mentioned
STYLESHEET = Path(__file__).parent / "static" / "sandbox" / "viewer.css"
# Viewer pages load nothing but their own stylesheet and post only to the sandbox.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def viewer_page(view):
    """A viewer page: the strict CSP above, and never cached (it shows the clock)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Cache-Control"] = "no-store"
        return response

    return wrapped


def _fingerprint(app: AppRegistration) -> str:
    return app.secret_hash[:16]


def signed_in(request: HttpRequest) -> bool:
    """Whether the viewer signed in to the sandbox tools (and the secret did not change since)."""
    value = request.get_signed_cookie(COOKIE, default=None, salt=SALT, max_age=MAX_AGE)
    if not value:
        return False
    client_id, _, fingerprint = value.partition(":")
    try:
        key = uuid.UUID(client_id)
    except ValueError:
        return False
    app = AppRegistration.objects.filter(display_name=OUTSIDE_TOOLS, client_id=key).first()
    return app is not None and hmac.compare_digest(_fingerprint(app), fingerprint)


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or "/"
    return wanted if wanted in VIEWERS else "/"


def context(request: HttpRequest) -> dict:
    """What the viewers' clock and tools panel (``sandbox/_tools.html``) shows."""
    now = clock.now()
    world = worldtime.world_now()
    return {
        "tools": signed_in(request),
        "sandbox_now": now,
        # Only when the product keeps a later time (the sandbox's clock was set back).
        "world_now": world if world is not None and world - now >= SHOWN_APART else None,
        "next": request.path if request.path in VIEWERS else "/",
        "min_date": (now + dt.timedelta(days=1)).date().isoformat(),
        "max_date": (timezone.now() + dt.timedelta(seconds=clock.MAX_OFFSET - 86400))
        .date()
        .isoformat(),
        "steps": [("hour", "+1 hour"), ("day", "+1 day"), ("week", "+1 week")],
    }


def refuse(request: HttpRequest, message: str, status: int) -> HttpResponse:
    page = render(
        request,
        "sandbox/error.html",
        {"title": "Sandbox tools", "message": message, "back": _next(request)},
        status=status,
    )
    return viewer_page(lambda _: page)(request)


@require_POST
def sign_in(request: HttpRequest) -> HttpResponse:
    client_id = request.POST.get("client_id", "").strip()[:100]
    secret = request.POST.get("client_secret", "")[:200]
    app = tools_app_for(client_id, secret)
    if app is None:
        return refuse(
            request,
            "That is not the outside-tools app's client id and secret; `gigbridge sandbox "
            "info` prints them (client_id, client_secret).",
            403,
        )
    response = HttpResponseRedirect(_next(request) + "#clock", status=303)
    response.set_signed_cookie(
        COOKIE,
        f"{app.client_id}:{_fingerprint(app)}",
        salt=SALT,
        max_age=MAX_AGE,
        secure=True,
        httponly=True,
        samesite="Lax",
    )
    return response


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    response = HttpResponseRedirect(_next(request), status=303)
    response.delete_cookie(COOKIE, samesite="Lax")
    return response


def _wanted_offset(form) -> float:
    """The clock's new offset for the form, or ValueError saying what is wrong with it."""
    now = clock.now()
    step = form.get("advance")
    if step:
        if step not in STEPS:
            raise ValueError("advance must be hour, day or week")
        target = now + STEPS[step]
    else:
        raw = (form.get("date") or "").strip()
        try:
            day = dt.date.fromisoformat(raw) if len(raw) == 10 else None
        except ValueError:
            day = None
        if day is None:
            raise ValueError(f"date: expected a day as YYYY-MM-DD, not {raw[:20]!r}")
        if day <= now.date():
            raise ValueError(
                f"date: the sandbox clock only moves forward here; pick a day after "
                f"{now.date().isoformat()} (the sandbox's today)"
            )
        target = dt.datetime.combine(day, now.timetz())  # the same time of day, that day
    offset = clock.offset() + (target - now).total_seconds()
    if abs(offset) > clock.MAX_OFFSET:
        raise ValueError("date: the sandbox clock stays within ten years of real time")
    return offset


@require_POST
def move_clock(request: HttpRequest) -> HttpResponse:
    if not signed_in(request):
        return refuse(request, "Sign in to the sandbox tools to move the clock.", 403)
    try:
        offset = _wanted_offset(request.POST)
    except ValueError as exc:
        return refuse(request, str(exc), 400)
    with transaction.atomic():
        clock.set_offset(offset)  # published for the product once committed
    # The simulated freelancers catch up when the marketplace is next asked (Gigbridge's sync,
    # or POST /upwork/_sandbox/tick), not in this request: months of hours for every contract
    # could outlast it.
    return HttpResponseRedirect(_next(request) + "#clock", status=303)


@require_GET
def stylesheet(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(STYLESHEET.read_bytes(), content_type="text/css; charset=utf-8")
    response.headers["Cache-Control"] = "max-age=300"
    return response
