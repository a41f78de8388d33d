"""Sign-in throttling: django-axes, with a limit per account and address and one per address.

Every way in counts against the same budget of the caller's address: the password form (axes'
backend, first in ``AUTHENTICATION_BACKENDS``), API bearer tokens (``check`` / ``failed``, from
``gigbridge.api.auth``) and forged or broken OIDC callbacks (``gigbridge.web.oidc``).

- ``SIGNIN_ACCOUNT_LIMIT`` wrong passwords for one account from one address, or
  ``SIGNIN_ADDRESS_LIMIT`` failures of any kind from one address, within ``AXES_COOLOFF_TIME``,
  lock that account there (or the whole address) until the cool-off after the last counted
  failure has passed. Another address (the real owner, elsewhere) is not affected.
- While locked, nothing is tried (a right password is refused too) and nothing more is counted,
  so the lock ends on time and the attempt rows stay small.
- Locked: 429 with ``Retry-After``; a page saying when to try again for browsers,
  problem+json under ``/api/``. Each lockout is an audit event (``auth.locked_out``); each
  failure and each refusal a line on the ``gigbridge.security`` log (rate limited per address;
  never a password or token).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import Max, Sum
from django.dispatch import receiver
from django.shortcuts import render
from django.utils import timezone
from ninja.errors import Throttled

from gigbridge.securitylog import RateLimitedLog, logger

_log = RateLimitedLog(logger)
NO_ACCOUNT = {"username": None}  # credentials of a try that names no account (token, OIDC)


def client_address(request) -> str:
    """The caller's address: REMOTE_ADDR, or behind a trusted proxy the hop it appended."""
    address = request.META.get("REMOTE_ADDR", "")
    if settings.GIGBRIDGE_BEHIND_PROXY:
        # The proxy appends the address it saw; everything left of it is the client's word.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        address = forwarded or address
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return "0.0.0.0"  # noqa: S104 - a placeholder to count by, never bound to


class Handler(AxesDatabaseHandler):
    """Axes' database handler with two limits instead of one."""

    def _recent(self, request):
        cutoff = request.axes_attempt_time - settings.AXES_COOLOFF_TIME
        return AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address, attempt_time__gte=cutoff
        )

    def counts(self, request, username) -> tuple[int, int]:
        """Recent failures of ``username`` at the caller's address, and of the address."""
        recent = self._recent(request)
        address = recent.aggregate(n=Sum("failures_since_start"))["n"] or 0
        account = 0
        if username is not None:
            account = (
                recent.filter(username=username).aggregate(n=Sum("failures_since_start"))["n"] or 0
            )
        return account, address

    def get_failures(self, request, credentials=None) -> int:
        # Axes compares one number with one limit (AXES_FAILURE_LIMIT, the account limit): the
        # address's count is scaled so that it reaches that limit exactly at the address limit.
        account, address = self.counts(request, get_client_username(request, credentials))
        scaled = address * settings.SIGNIN_ACCOUNT_LIMIT // settings.SIGNIN_ADDRESS_LIMIT
        return max(account, scaled)

    def reset_user_attempts(self, request, credentials=None) -> int:
        # A right password forgives that person's typos at this address, not the address's
        # other failures (else one valid account would reset the budget for guessing others).
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(
            username=username, ip_address=request.axes_ip_address
        ).delete()
        return count

    def locked_until(self, request) -> dt.datetime:
        """When the lock ends at the latest: the cool-off after the last counted failure."""
        last = self._recent(request).aggregate(t=Max("attempt_time"))["t"]
        return (last or request.axes_attempt_time) + settings.AXES_COOLOFF_TIME


class ThrottleBackend(AxesStandaloneBackend):
    """First backend: refuses before any password is checked while the caller is locked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            # In-process callers (the test client, a shell) have no address to count by; every
            # HTTP sign-in (Django's AuthenticationForm) passes its request.
            return None
        try:
            return super().authenticate(request, username, password, **kwargs)
        except AxesBackendPermissionDenied:
            request.gigbridge_throttled = True  # a refusal, not a new failure or lockout
            _refusal(request, username)
            raise


def _handler() -> Handler:
    return AxesProxyHandler.get_implementation()


def retry_after(request) -> tuple[int, dt.datetime]:
    AxesProxyHandler.update_request(request)
    until = _handler().locked_until(request)
    return max(1, math.ceil((until - timezone.now()).total_seconds())), until


def check(request) -> None:
    """Raise ``Throttled`` (429 problem+json) if the caller's address is locked (API tokens)."""
    if not AxesProxyHandler.is_allowed(request, NO_ACCOUNT):
        request.gigbridge_throttled = True
        _refusal(request, None)
        raise Throttled(wait=retry_after(request)[0])


def failed(request, kind: str) -> None:
    """Count one failure that names no account (a wrong token, a forged OIDC callback)."""
    _log.emit(
        client_address(request),
        f"sign-in failed kind={kind} address={client_address(request)} path={request.path}",
    )
    AxesProxyHandler.user_login_failed(sender=kind, credentials=NO_ACCOUNT, request=request)


def is_locked(request) -> bool:
    """For sign-in routes that name no account (OIDC): is the address locked?"""
    return not AxesProxyHandler.is_allowed(request, NO_ACCOUNT)


def _account(username) -> str:
    # Typed by the caller: printable, bounded; never the password.
    return "".join(c if c.isprintable() and c != " " else "?" for c in str(username))[:150]


def _refusal(request, username) -> None:
    address = client_address(request)
    account = f" account={_account(username)}" if username else ""
    _log.emit(address, f"sign-in refused (locked out){account} address={address}")


@receiver(user_login_failed)
def _log_failure(sender, credentials, request=None, **kwargs):
    if request is None or getattr(request, "gigbridge_throttled", False):
        return
    address = client_address(request)
    account = _account(credentials.get("username", ""))
    _log.emit(address, f"sign-in failed kind=password account={account} address={address}")


@receiver(user_locked_out)
def _audit_lockout(sender, request, username=None, ip_address=None, **kwargs):
    if request is None or getattr(request, "gigbridge_throttled", False):
        return  # already locked: this is a refused try, logged by _refusal
    from gigbridge.audit.actions import record

    seconds, until = retry_after(request)
    _, address_failures = _handler().counts(request, username)
    if address_failures >= settings.SIGNIN_ADDRESS_LIMIT:
        username = None  # the whole address is locked, whichever account it tried last
    logger.warning(
        "sign-in locked out scope=%s account=%s address=%s until=%s",
        "account_at_address" if username else "address",
        _account(username or "-"),
        ip_address,
        until.isoformat(timespec="seconds"),
    )
    with transaction.atomic():
        record(
            user=None,
            actor="anonymous",
            action="auth.locked_out",
            object_type="account" if username else "address",
            object_id=_account(username) if username else str(ip_address),
            after={
                "username": _account(username) if username else None,
                "address": ip_address,
                "locked_until": until.isoformat(timespec="seconds"),
            },
        )


def reset_log() -> None:
    """Forget the security log's per-address counts (tests)."""
    _log.reset()


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: 429, saying when to try again."""
    from gigbridge.api.problems import for_machines, problem

    seconds, until = retry_after(request)
    if for_machines(request):
        response = problem(
            429,
            "Too many failed sign-ins",
            f"too many failed attempts from your address: try again in {seconds} seconds",
        )
    else:
        response = render(
            request,
            "web/locked_out.html",
            {"until": timezone.localtime(until), "minutes": math.ceil(seconds / 60)},
            status=429,
        )
    response["Retry-After"] = str(seconds)
    return response
