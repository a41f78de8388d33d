"""Web sign-in through OpenID Connect: Entra ID, or the sandbox tenant's emulation of it.

Authorization code flow with PKCE (S256), state and nonce, through Authlib's Django client.
The identity provider is found by discovery at ``{authority}/v2.0/.well-known/openid-configuration``
(Entra ID's v2.0 endpoints; the sandbox serves the same), so a real tenant works by
configuration alone (``settings.OIDC``, from ``GIGBRIDGE_OIDC_*``).

- The id_token is checked by Authlib against the discovered JWKS (signature), ``iss`` (the
  discovered issuer), ``aud`` (our client id: Authlib 1.9 only checks it when told, so it is
  told here), ``exp``/``iat`` and the nonce kept in the session with the state.
- Authlib's Django client talks HTTP through ``requests``. With ``GIGBRIDGE_OIDC_CA_BUNDLE`` set,
  its sessions trust exactly that file and ignore the environment (``trust_env=False``), because
  requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` replace a session's ``verify``
  (see ``gigbridge.sandbox.client``). Verification is never turned off.
- The person is matched to a local account by the token's ``email`` or ``preferred_username``:
  ``User.email`` first, then the email of a ``Person`` linked to an account (case-insensitive).
  Unknown or inactive people are refused, unless ``create_users`` is on (then an account with an
  unusable password is made and linked to the ``Person`` with that email, if any).
- Every sign-in is audited (``auth.oidc_sign_in``: subject oid and email, never tokens).

Local accounts (``/login/``) stay for break-glass administrators.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from pathlib import Path

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.template import engines
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from joserfc.errors import JoseError

from gigbridge.audit.actions import record
from gigbridge.people.models import Person

from . import signin

log = logging.getLogger(__name__)

NAME = "oidc"  # Authlib's name for the client; also the prefix of its keys in the session
SCOPE = "openid profile email"
BACKEND = "gigbridge.web.oidc.OIDCBackend"
TIMEOUT = 10  # seconds, for each call to the identity provider
METADATA_TTL = 24 * 3600  # discovery and keys are fetched again after this (or on a new kid)
# Entra ID's multi-tenant authorities: their issuer is a template ({tenantid}), which a
# single-organization product must not accept.
MULTI_TENANT = {"common", "organizations", "consumers"}


class OIDCBackend(ModelBackend):
    """Keeps people who signed in through OIDC signed in (``get_user`` refuses inactive users).

    It never authenticates anything itself: the callback view has already verified the
    id_token and chosen the account, and passes this backend's path to ``login``.
    """

    def authenticate(self, request, **credentials):
        return None


# --- configuration ---------------------------------------------------------------------------


def config() -> dict:
    return getattr(settings, "OIDC", None) or {}


def enabled() -> bool:
    """OIDC sign-in is offered when an authority and a client id are configured."""
    cfg = config()
    return bool(cfg.get("authority") and cfg.get("client_id"))


def config_problems() -> list[str]:
    """What keeps a configured OIDC sign-in from working, each with what to do about it."""
    if not enabled():
        return []
    cfg, problems = config(), []
    authority = cfg["authority"].rstrip("/")
    if not authority.startswith("https://"):
        problems.append(
            f"GIGBRIDGE_OIDC_AUTHORITY={authority!r} must be an https URL, e.g. "
            "https://login.microsoftonline.com/<tenant-id>"
        )
    if authority.rsplit("/", 1)[-1].lower() in MULTI_TENANT:
        problems.append(
            "GIGBRIDGE_OIDC_AUTHORITY must name your tenant (its id or domain), not "
            f"{authority.rsplit('/', 1)[-1]!r}: people of other organizations must not sign in"
        )
    if not cfg.get("client_secret"):
        problems.append(
            "GIGBRIDGE_OIDC_CLIENT_SECRET (or GIGBRIDGE_OIDC_CLIENT_SECRET_FILE) is not set"
        )
    bundle = cfg.get("ca_bundle")
    if bundle and not Path(bundle).is_file():
        problems.append(f"GIGBRIDGE_OIDC_CA_BUNDLE={bundle!r} is not a readable file")
    return problems


def callback_url() -> str:
    """The redirect URI registered with the identity provider: the public base URL + callback."""
    return settings.BASE_URL.rstrip("/") + reverse("web:oidc-callback")


def _client_kwargs(cfg: dict) -> dict:
    kwargs = {"scope": SCOPE, "code_challenge_method": "S256", "default_timeout": TIMEOUT}
    if cfg.get("ca_bundle"):
        # Exactly this CA: requests would otherwise let REQUESTS_CA_BUNDLE replace it.
        kwargs.update(verify=str(cfg["ca_bundle"]), trust_env=False)
    return kwargs


_clients: dict[tuple, object] = {}
_lock = threading.Lock()


def client():
    """Authlib's Django client for the configured provider (one per configuration)."""
    cfg = config()
    authority = cfg["authority"].rstrip("/")
    key = (authority, cfg["client_id"], cfg.get("client_secret"), cfg.get("ca_bundle"))
    with _lock:
        app = _clients.get(key)
        loaded_at = app.server_metadata.get("_loaded_at") if app is not None else None
        if app is None or (loaded_at and time.time() - loaded_at > METADATA_TTL):
            oauth = OAuth()
            app = oauth.register(
                NAME,
                client_id=cfg["client_id"],
                client_secret=cfg.get("client_secret"),
                server_metadata_url=f"{authority}/v2.0/.well-known/openid-configuration",
                client_kwargs=_client_kwargs(cfg),
            )
            _clients.clear()
            _clients[key] = app
    return app


def reset() -> None:
    """Forget the client and the provider's metadata and keys (tests, key rollover)."""
    with _lock:
        _clients.clear()


def claims_options(app) -> dict:
    """What the id_token must say beyond its signature: our issuer and our client id."""
    return {
        "iss": {"essential": True, "value": app.load_server_metadata()["issuer"]},
        "aud": {"essential": True, "value": app.client_id},
        "sub": {"essential": True},
    }


# --- views -----------------------------------------------------------------------------------

# What the page says for each error code of OAuth 2.0 (RFC 6749 4.1.2.1) and OpenID Connect.
ERROR_MESSAGES = {
    "access_denied": "Sign-in was cancelled.",
    "login_required": "Microsoft needs you to sign in there first. Start it again.",
    "interaction_required": "Microsoft needs another step from you. Start it again.",
    "consent_required": "Gigbridge is not yet approved in your organization. Tell your IT "
    "administrator.",
    "account_selection_required": "Choose an account at Microsoft. Start it again.",
    "server_error": "Microsoft sign-in failed on Microsoft's side. Try again in a few minutes.",
    "temporarily_unavailable": "Microsoft sign-in is busy. Try again in a few minutes.",
    "invalid_request": "Microsoft refused the sign-in request. Tell your IT administrator.",
    "unauthorized_client": "Microsoft refused the sign-in request. Tell your IT administrator.",
    "invalid_scope": "Microsoft refused the sign-in request. Tell your IT administrator.",
    "unsupported_response_type": "Microsoft refused the sign-in request. Tell your IT "
    "administrator.",
}
DEFAULT_ERROR_MESSAGE = "Microsoft could not sign you in."


def _bounded(text: str, limit: int) -> str:
    """One log line's worth of text from outside: printable, and at most ``limit`` long."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[:limit] + "…"


class LoginView(auth_views.LoginView):
    """The local sign-in page, offering "Sign in with Microsoft" when OIDC is configured."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = enabled()
        return context


@never_cache
@require_GET
def oidc_login(request: HttpRequest) -> HttpResponse:
    """Send the browser to the identity provider; ``next`` is kept (if safe) for the return."""
    if not enabled():
        raise Http404("OIDC sign-in is not configured")
    if signin.is_locked(request):
        return signin.lockout_response(request)
    problems = config_problems()
    if problems:
        log.error("OIDC sign-in is misconfigured: %s", "; ".join(problems))
        return _page(
            request, 503, "Microsoft sign-in is not set up correctly. Tell your IT administrator."
        )
    next_url = _safe_next(request, request.GET.get("next", ""))
    app = client()
    redirect_uri = callback_url()
    try:
        issuer = app.load_server_metadata().get("issuer", "")
        if "{tenantid}" in issuer:
            raise ValueError("a multi-tenant authority's issuer is a template")
        found = app.create_authorization_url(redirect_uri)
    except (requests.RequestException, OSError, ValueError, KeyError) as exc:
        return _unreachable(request, exc)
    app.save_authorize_data(request, redirect_uri=redirect_uri, next=next_url, **found)
    return HttpResponseRedirect(found["url"])


@never_cache
@require_GET
def oidc_callback(request: HttpRequest) -> HttpResponse:
    """The provider sends the browser back here with a code (or an error) and our state."""
    if not enabled():
        raise Http404("OIDC sign-in is not configured")
    if signin.is_locked(request):
        return signin.lockout_response(request)
    app = client()
    state = request.GET.get("state", "")
    data = app.framework.get_state_data(request.session, state) if state else None
    if data is None:
        # Not a sign-in this browser started (forged, replayed or expired): nothing from the
        # URL is shown or trusted, and it counts against the address like a wrong password.
        signin.failed(request, "oidc")
        return _page(
            request,
            400,
            "This sign-in was not started here, or it has expired. Start it again.",
        )
    if request.GET.get("error"):
        app.framework.clear_state_data(request.session, state)
        error = request.GET["error"]
        # The provider's description is for the log (bounded, one line), never the page: it is
        # text from the URL, which whoever sent the link controls.
        log.info(
            "OIDC sign-in ended by the identity provider: error=%s description=%s",
            _bounded(error, 60),
            _bounded(request.GET.get("error_description", ""), 300),
        )
        return _page(request, 400, ERROR_MESSAGES.get(error, DEFAULT_ERROR_MESSAGE))
    next_url = _safe_next(request, data.get("next") or "")
    try:
        token = app.authorize_access_token(request, claims_options=claims_options(app))
    except OAuthError as exc:
        log.warning("OIDC token request refused: %s", exc.error)
        signin.failed(request, "oidc")  # a forged or replayed code
        return _page(
            request, 400, "Microsoft did not confirm this sign-in. Start it again.", exc.error
        )
    except JoseError as exc:
        log.warning("OIDC id_token rejected: %s", exc.error)
        signin.failed(request, "oidc")
        return _page(request, 400, "The sign-in could not be verified. Start it again.")
    except (requests.RequestException, OSError, ValueError, KeyError) as exc:
        return _unreachable(request, exc)
    claims = token.get("userinfo")
    if not claims:
        return _page(request, 400, "Microsoft sent no identity for this sign-in.")
    subject = claims.get("oid") or claims["sub"]
    try:
        with transaction.atomic():
            user, email = _account_for(claims, create=bool(config().get("create_users")))
            record(
                user=user,
                action="auth.oidc_sign_in",
                obj=user,
                after={"subject_oid": subject, "email": email},
            )
            login(request, user, backend=BACKEND)  # last: nothing after it can fail
    except Refused as exc:
        log.warning("OIDC sign-in refused for subject %s: %s", subject, exc.reason)
        return _page(request, 403, str(exc))
    return HttpResponseRedirect(next_url)


# --- accounts --------------------------------------------------------------------------------


class Refused(Exception):
    """The identity provider vouched for someone who may not sign in here; says why."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason  # for the log: no personal data


def _emails(claims: dict) -> list[str]:
    found: list[str] = []
    for name in ("email", "preferred_username"):
        value = str(claims.get(name) or "").strip()
        if "@" in value and value.lower() not in {f.lower() for f in found}:
            found.append(value)
    return found


def _account_for(claims: dict, create: bool):
    """The local account for the verified claims, and the email that matched it."""
    User = get_user_model()
    emails = _emails(claims)
    if not emails:
        raise Refused(
            "Microsoft sent no email address for your account, so Gigbridge cannot tell who "
            "you are here. Ask your IT administrator.",
            "no email or preferred_username claim",
        )
    for email in emails:
        users = list(User.objects.filter(email__iexact=email)[:2])
        if len(users) > 1:
            raise Refused(
                f"More than one Gigbridge account has the email address {email}. Ask an "
                "administrator to fix that, then sign in again.",
                "ambiguous email",
            )
        if not users:
            person = (
                Person.objects.filter(email__iexact=email, user__isnull=False)
                .select_related("user")
                .first()
            )
            users = [person.user] if person else []
        if users:
            if not users[0].is_active:
                raise Refused(
                    f"The Gigbridge account for {email} is disabled. Ask an administrator.",
                    "inactive account",
                )
            return users[0], email
    if not create:
        raise Refused(
            f"There is no Gigbridge account for {emails[0]}. Ask the program administrator to "
            "add you.",
            "no matching account",
        )
    return _create_account(claims, emails[0]), emails[0]


def _create_account(claims: dict, email: str):
    User = get_user_model()
    given, family = claims.get("given_name") or "", claims.get("family_name") or ""
    if not (given or family) and claims.get("name"):
        given, _, family = str(claims["name"]).partition(" ")
    user = User(
        username=_free_username(email.lower()),
        email=email,
        first_name=str(given)[:150],
        last_name=str(family)[:150],
    )
    user.set_unusable_password()  # signs in through the identity provider only
    user.save()
    person = Person.objects.filter(email__iexact=email, user__isnull=True).first()
    if person is not None:
        person.user = user
        person.save(update_fields=["user"])
    record(
        user=user,
        action="auth.oidc_user_created",
        obj=user,
        after={
            "username": user.username,
            "email": email,
            "person": person.pk if person else None,
            "subject_oid": claims.get("oid") or claims.get("sub"),
        },
    )
    return user


def _free_username(wanted: str) -> str:
    User = get_user_model()
    wanted = wanted[:140]
    candidate, n = wanted, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{wanted}-{n}"
    return candidate


# --- pages -----------------------------------------------------------------------------------


def _safe_next(request: HttpRequest, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


PAGE = """{% extends "web/base.html" %}
{% block title %}Sign-in failed{% endblock %}
{% block content %}
<article class="narrow wide">
  <h1>Sign-in failed</h1>
  <p role="alert" class="flash error">{{ message }}</p>
  {% if detail %}
  <p><small>Details from the identity provider: <code>{{ detail }}</code></small></p>
  {% endif %}
  <p><a href="{% url 'web:login' %}">Back to sign-in</a></p>
</article>
{% endblock %}
"""


@functools.cache
def _template():
    return engines["django"].from_string(PAGE)


def _page(request: HttpRequest, status: int, message: str, detail: str = "") -> HttpResponse:
    body = _template().render({"message": message, "detail": detail}, request)
    return HttpResponse(body, status=status)


def _unreachable(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The exception names the URL and the reason (TLS, DNS, refused); no secret is in it.
    log.error("OIDC identity provider unreachable or unusable: %s", exc)
    return _page(
        request,
        502,
        "Microsoft sign-in cannot be reached right now. Try again later, or tell your IT "
        "administrator.",
    )
