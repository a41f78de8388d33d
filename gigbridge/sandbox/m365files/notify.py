"""Change and lifecycle notifications: what changed, who subscribed, delivery with retries.

Changes are picked up where they happen, whoever makes them (Graph handlers, the seed, the
Entra emulator): Django signals on the directory's users and group memberships, and explicit
calls from the drive handlers. Each change that matches a live subscription becomes a
``changeNotification`` in a ``Delivery`` row written in the same transaction, so a change that
is rolled back notifies nobody. Changes to one subscription made before its pending delivery
is picked up travel together in one ``changeNotificationCollection`` (a new member that was
created and then updated in one request is one ``created``), as Graph batches them.

After the commit a background thread POSTs each delivery (JSON, TLS verified against the
system's CAs; ``http`` only for loopback receivers) and retries a failed one a few times with
a short backoff (Graph retries with backoff for up to 4 hours; the sandbox gives up after
``len(BACKOFF) + 1`` attempts and marks the row ``failed``). A receiver must answer 2xx within
``RECEIVER_TIMEOUT`` seconds. Each notification carries an ``id`` that stays the same across
retries, so receivers can drop duplicates.

What the sandbox sends, as Graph documents for each resource:

- users (``/users``, ``/users/{id}``): ``updated`` when a user is created, changed or
  (soft-)deleted, which is what ``DELETE /users/{id}`` is in Graph; ``resource``
  ``Users/{id}``, ``resourceData`` ``#Microsoft.Graph.User`` with ``organizationId``.
- team members (``/teams/{id}/members``): ``created``, ``updated`` (roles), ``deleted``;
  ``resource`` ``teams('{id}')/members('{membership-id}')``.
- a drive's root (``/drives/{d}/root``): ``updated`` whenever anything below it changes; as in
  Graph the notification does not say what changed (clients call delta); ``resourceData``
  names the root item.

Lifecycle notifications (``reauthorizationRequired``, ``subscriptionRemoved``) go to
``lifecycleNotificationUrl``; ``/_sandbox/lifecycle/tick`` sends them (see ``control``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import ssl
import threading
import time
import uuid
from urllib.parse import urlsplit

import httpx
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from ..graph.dispatch import iso
from ..models import GraphGroupMember, GraphSettings, GraphTeam, SandboxUser
from . import clock
from .models import Delivery, Subscription

log = logging.getLogger("gigbridge.sandbox.notify")

BACKOFF = [0.2, 0.5, 1.0, 2.0]  # seconds before the 2nd, 3rd … attempt
RECEIVER_TIMEOUT = 10.0  # seconds for the receiver to answer a notification
CLAIM = dt.timedelta(seconds=120)  # how long a delivering thread owns a row
LOOPBACK = {"127.0.0.1", "::1", "localhost"}

_tls: ssl.SSLContext | None = None


def tls_context() -> ssl.SSLContext:
    """The system's trust store (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` honoured by OpenSSL)."""
    global _tls
    if _tls is None:
        _tls = ssl.create_default_context()
    return _tls


def receiver_allowed(url: str) -> bool:
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)


def http_client(timeout: float) -> httpx.Client:
    # No proxies from the environment: receivers are usually on loopback.
    return httpx.Client(
        verify=tls_context(),
        timeout=httpx.Timeout(timeout),
        trust_env=False,
        follow_redirects=False,
    )


# -- recording changes ------------------------------------------------------------------------


def _live(tenant_id, kind: str, target: str | None = None):
    subscriptions = Subscription.objects.filter(
        tenant_id=tenant_id, kind=kind, expires__gt=clock.now()
    )
    if target is not None:
        subscriptions = subscriptions.filter(target__iexact=target)
    return subscriptions


def _merge(old: str, new: str) -> str:
    if new == "deleted":
        return "deleted"
    if old == "created":
        return "created"
    return new


def record(subscription: Subscription, change_type: str, resource: str, data: dict) -> None:
    """Queue a change for ``subscription`` (if it asked for this change type)."""
    if change_type not in subscription.change_types:
        return
    note = {
        "id": str(uuid.uuid4()),
        "subscriptionId": str(subscription.id),
        "subscriptionExpirationDateTime": iso(subscription.expires),
        "changeType": change_type,
        "resource": resource,
        "resourceData": data,
        "clientState": subscription.client_state or None,
        "tenantId": str(subscription.tenant_id),
    }
    open_rows = Delivery.objects.filter(
        subscription_id=subscription.id,
        lifecycle=False,
        state=Delivery.State.PENDING,
        attempts=0,
        claimed_until__isnull=True,
    )
    for row in open_rows.order_by("-id")[:1]:
        notes = list(row.payload.get("value", []))
        for existing in notes:
            if existing["resource"] == resource:
                existing["changeType"] = _merge(existing["changeType"], change_type)
                break
        else:
            notes.append(note)
        updated = Delivery.objects.filter(pk=row.pk, claimed_until__isnull=True).update(
            payload={"value": notes}
        )
        if updated:
            transaction.on_commit(lambda pk=row.pk: deliver_soon([pk]))
            return
    if _lost_on_purpose():
        Delivery.objects.create(
            subscription_id=subscription.id,
            url=subscription.notification_url,
            payload={"value": [note]},
            state=Delivery.State.FAILED,
            last_status="lost on purpose (dial files.lose_notifications)",
        )
        return
    row = Delivery.objects.create(
        subscription_id=subscription.id,
        url=subscription.notification_url,
        payload={"value": [note]},
    )
    transaction.on_commit(lambda pk=row.pk: deliver_soon([pk]))


def _lost_on_purpose() -> bool:
    """One of the notifications the dial ``files.lose_notifications`` asks to lose (counted
    down in the same statement, so two writers never lose the same one twice)."""
    return bool(
        GraphSettings.objects.filter(pk=1, lose_notifications__gt=0).update(
            lose_notifications=F("lose_notifications") - 1
        )
    )


def user_changed(user: SandboxUser) -> None:
    resource = f"Users/{user.id}"
    data = {
        "@odata.type": "#Microsoft.Graph.User",
        "@odata.id": resource,
        "id": str(user.id),
        "organizationId": str(user.tenant_id),
    }
    for kind, target in (("users", None), ("user", str(user.id))):
        for subscription in _live(user.tenant_id, kind, target):
            record(subscription, "updated", resource, data)


def member_changed(membership: GraphGroupMember, change_type: str) -> None:
    team = GraphTeam.objects.filter(group_id=membership.group_id).select_related("group").first()
    if team is None:
        return
    from ..graph.teams import membership_id

    member = membership_id(team.internal_id, membership.user_id)
    resource = f"teams('{team.group_id}')/members('{member}')"
    data = {
        "@odata.type": "#Microsoft.Graph.aadUserConversationMember",
        "@odata.id": resource,
        "id": member,
    }
    for subscription in _live(team.group.tenant_id, "team_members", str(team.group_id)):
        record(subscription, change_type, resource, data)


def drive_changed(drive) -> None:
    """Something below the drive's root changed (called by the drive handlers)."""
    from .models import DriveItem

    subscriptions = list(_live(drive.tenant_id, "drive_root", drive.id))
    if not subscriptions:
        return
    root = DriveItem.objects.filter(drive=drive, parent__isnull=True).first()
    resource = f"drives/{drive.id}/root"
    data = {
        "@odata.type": "#Microsoft.Graph.DriveItem",
        "@odata.id": resource,
        "id": root.id if root else None,
    }
    for subscription in subscriptions:
        record(subscription, "updated", resource, data)


def lifecycle(subscription: Subscription, event: str) -> Delivery | None:
    if not subscription.lifecycle_url:
        return None
    note = {
        "subscriptionId": str(subscription.id),
        "subscriptionExpirationDateTime": iso(subscription.expires),
        "tenantId": str(subscription.tenant_id),
        "clientState": subscription.client_state or None,
        "lifecycleEvent": event,
    }
    return Delivery.objects.create(
        subscription_id=subscription.id,
        url=subscription.lifecycle_url,
        lifecycle=True,
        payload={"value": [note]},
    )


# -- signals ----------------------------------------------------------------------------------


def _user_saved(sender, instance: SandboxUser, **kwargs) -> None:
    user_changed(instance)


def _user_deleted(sender, instance: SandboxUser, **kwargs) -> None:
    user_changed(instance)  # a soft delete in Graph: "updated"


def _member_saved(sender, instance: GraphGroupMember, created: bool, **kwargs) -> None:
    if instance.member:
        member_changed(instance, "created" if created else "updated")


def _member_deleted(sender, instance: GraphGroupMember, **kwargs) -> None:
    if instance.member:
        member_changed(instance, "deleted")


models.signals.post_save.connect(_user_saved, sender=SandboxUser, dispatch_uid="files_user_saved")
models.signals.post_delete.connect(
    _user_deleted, sender=SandboxUser, dispatch_uid="files_user_deleted"
)
models.signals.post_save.connect(
    _member_saved, sender=GraphGroupMember, dispatch_uid="files_member_saved"
)
models.signals.post_delete.connect(
    _member_deleted, sender=GraphGroupMember, dispatch_uid="files_member_deleted"
)


# -- delivery ---------------------------------------------------------------------------------


def deliver_soon(ids: list[int]) -> None:
    """Deliver these rows from a background thread (after the commit that made them)."""
    thread = threading.Thread(target=_deliver_all, args=(ids,), daemon=True, name="sandbox-notify")
    thread.start()


def _deliver_all(ids: list[int]) -> None:
    try:
        for pk in ids:
            deliver(pk, retry=True)
    except Exception:  # a thread has nobody to raise to: log it
        log.exception("notification delivery failed")
    finally:
        connection.close()  # this thread's own connection


def claim(pk: int) -> Delivery | None:
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    with transaction.atomic():
        taken = (
            Delivery.objects.filter(pk=pk, state=Delivery.State.PENDING)
            .filter(free)
            .update(claimed_until=now + CLAIM)
        )
    return Delivery.objects.filter(pk=pk).first() if taken else None


def post(url: str, payload: dict) -> tuple[bool, str]:
    try:
        with http_client(RECEIVER_TIMEOUT) as client:
            response = client.post(
                url,
                content=json.dumps(payload).encode(),
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
    except httpx.HTTPError as exc:
        return False, type(exc).__name__
    return 200 <= response.status_code < 300, str(response.status_code)


def deliver(pk: int, *, retry: bool) -> str | None:
    """Send one delivery if nobody else is; with ``retry`` keep trying with backoff.

    Returns the row's state afterwards (None when another worker owns it).
    """
    row = claim(pk)
    if row is None:
        return None
    while True:
        delivered, status = post(row.url, row.payload)
        row.attempts += 1
        row.last_status = status
        now = timezone.now()
        if delivered:
            row.state, row.delivered, row.claimed_until = Delivery.State.DELIVERED, now, None
        elif row.attempts > len(BACKOFF):
            row.state, row.claimed_until = Delivery.State.FAILED, None
        else:
            wait = BACKOFF[row.attempts - 1]
            row.next_try = now + dt.timedelta(seconds=wait)
            if not retry:
                row.claimed_until = None  # the next tick (or thread) takes it from here
        with transaction.atomic():
            row.save(
                update_fields=[
                    "attempts",
                    "last_status",
                    "state",
                    "delivered",
                    "claimed_until",
                    "next_try",
                ]
            )
        if row.state != Delivery.State.PENDING or not retry:
            log.info(
                "notification %s to %s: %s after %d attempt(s)",
                row.pk,
                urlsplit(row.url).netloc,
                row.state,
                row.attempts,
            )
            return row.state
        time.sleep(wait)


def due() -> list[int]:
    now = timezone.now()
    return list(
        Delivery.objects.filter(state=Delivery.State.PENDING, next_try__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .values_list("pk", flat=True)
    )
