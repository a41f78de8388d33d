"""``/_sandbox/…``: the tools around the Graph emulator, not part of Graph itself.

- ``GET|POST /_sandbox/control``: read or change the dials (see ``dials``); Basic auth with the
  outside-tools app's client id and secret. Setting ``throttle`` refills every bucket; setting
  ``faults`` restarts the seeded sequence. The dials are stored, so they survive restarts;
  ``GIGBRIDGE_SANDBOX_GRAPH_*`` variables present at start override what they name.
- ``GET /_sandbox/mail``: the mail the tenant sent, newest first (same Basic auth);
  ``?to=`` / ``?from=`` filter by address.
- ``GET /_sandbox/invitations``: every invitation issued, newest first; ``?email=`` filters.
- ``GET /_sandbox/redeem/<token>``: the invitation redemption link (``inviteRedeemUrl``): the
  guest accepts, then goes to the invitation's redirect URL.
"""

from __future__ import annotations

import copy
import json

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from gigbridge import config

from ..models import (
    GraphBlockedDomain,
    GraphGuest,
    GraphInvitation,
    GraphSentMail,
    GraphSettings,
    GraphThrottleBucket,
    Tenant,
    digest,
)
from . import dials
from .auth import tools_only
from .throttle import settings_row


def current() -> dict:
    row = settings_row()
    domains = sorted(set(GraphBlockedDomain.objects.values_list("domain", flat=True)))
    return {
        "throttle": {"rate": row.throttle_rate, "burst": row.throttle_burst},
        "faults": {
            "error_rate": row.error_rate,
            "latency_ms": row.latency_ms,
            "seed": row.fault_seed,
            "retry_after": row.fault_retry_after,
        },
        "teams": {"provisioning_seconds": row.team_provisioning_seconds},
        "invitations": {"blocked_domains": domains},
        "files": {
            "download_bytes_per_second": row.download_bytes_per_second,
            "lose_notifications": row.lose_notifications,
        },
    }


@transaction.atomic
def update(changes: dict, *, initial: bool = False) -> dict:
    """Apply a (partial) dials update; raises dials.DialError. Returns the new dials.

    ``initial``: start from the defaults (the first start of a sandbox).
    """
    before = copy.deepcopy(dials.DEFAULTS) if initial else current()
    after = dials.merge(before, changes)
    row, _ = GraphSettings.objects.get_or_create(pk=1)
    row.throttle_rate = after["throttle"]["rate"]
    row.throttle_burst = after["throttle"]["burst"]
    faults = after["faults"]
    row.error_rate, row.latency_ms = faults["error_rate"], faults["latency_ms"]
    row.fault_seed, row.fault_retry_after = faults["seed"], faults["retry_after"]
    row.team_provisioning_seconds = after["teams"]["provisioning_seconds"]
    row.download_bytes_per_second = after["files"]["download_bytes_per_second"]
    row.lose_notifications = after["files"]["lose_notifications"]
    if initial or "faults" in changes:
        row.fault_counter = 0
    row.updated = timezone.now()
    row.save()
    if initial or "throttle" in changes:
        GraphThrottleBucket.objects.all().delete()
    if initial or "invitations" in changes:
        wanted = after["invitations"]["blocked_domains"]
        GraphBlockedDomain.objects.exclude(domain__in=wanted).delete()
        for tenant in Tenant.objects.all():
            for domain in wanted:
                GraphBlockedDomain.objects.get_or_create(tenant=tenant, domain=domain)
    return current()


def seed() -> None:
    """At start: create the dials once, then apply ``GIGBRIDGE_SANDBOX_GRAPH_*`` if set."""
    try:
        changes = dials.from_env(config.env)
        first = not GraphSettings.objects.filter(pk=1).exists()
        if first or changes:
            update(changes, initial=first)
    except dials.DialError as exc:
        raise config.ConfigError(str(exc)) from None


@csrf_exempt  # Basic-authenticated API: no cookies, nothing for a forged form to ride on
@require_http_methods(["GET", "POST"])
def control(request: HttpRequest) -> HttpResponse:
    refused = tools_only(request)
    if refused:
        return refused
    if request.method == "POST":
        try:
            changes = json.loads(request.body or b"{}")
            return JsonResponse(update(changes))
        except (ValueError, dials.DialError) as exc:
            return JsonResponse({"error": "invalid_settings", "message": str(exc)}, status=400)
    return JsonResponse(current())


def mail_json(mail: GraphSentMail) -> dict:
    return {
        "id": str(mail.id),
        "source": mail.source,
        "sentDateTime": mail.created.isoformat().replace("+00:00", "Z"),
        "from": mail.sender_address,
        "saveToSentItems": mail.save_to_sent_items,
        "message": mail.message,
    }


@require_GET
def mail(request: HttpRequest) -> HttpResponse:
    refused = tools_only(request)
    if refused:
        return refused
    sent = GraphSentMail.objects.all()
    wanted_to = request.GET.get("to", "").lower()
    wanted_from = request.GET.get("from", "").lower()
    found = [
        mail_json(m)
        for m in sent
        if (not wanted_to or wanted_to in [a.lower() for a in m.to])
        and (not wanted_from or wanted_from == m.sender_address.lower())
    ]
    return JsonResponse({"value": found})


@require_GET
def invitations(request: HttpRequest) -> HttpResponse:
    """Every invitation the tenant issued, newest first; ``?email=`` narrows to one address.
    Graph has no way to list them: this is how a test proves an invitation was sent once."""
    refused = tools_only(request)
    if refused:
        return refused
    issued = GraphInvitation.objects.all()
    if request.GET.get("email"):
        issued = issued.filter(email__iexact=request.GET["email"])
    found = [
        {
            "id": str(i.id),
            "invitedUserEmailAddress": i.email,
            "invitedUser": {"id": str(i.user_id)},
            "createdDateTime": i.created.isoformat().replace("+00:00", "Z"),
            "redeemed": i.redeemed_at is not None,
        }
        for i in issued
    ]
    return JsonResponse({"value": found})


@require_GET
def redeem(request: HttpRequest, token: str) -> HttpResponse:
    from .users import record_change

    with transaction.atomic():
        invitation = (
            GraphInvitation.objects.select_related("user")
            .filter(redeem_token_hash=digest(token))
            .first()
        )
        if invitation is None:
            return render(
                request,
                "sandbox/error.html",
                {"message": "This invitation link is not valid (or the guest was deleted)."},
                status=404,
            )
        guest, _ = GraphGuest.objects.get_or_create(user=invitation.user)
        now = timezone.now()
        if guest.state != GraphGuest.State.ACCEPTED:
            guest.state, guest.state_changed = GraphGuest.State.ACCEPTED, now
            guest.save()
            record_change(invitation.user)
        if invitation.redeemed_at is None:
            invitation.redeemed_at = now
            invitation.save(update_fields=["redeemed_at"])
    return HttpResponseRedirect(invitation.redirect_url)
