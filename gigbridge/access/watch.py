"""Watching the tenant: Graph change notifications that bring a change made by hand to the
reconciler and the drift scan within seconds instead of at the next periodic pass.

Gigbridge subscribes to ``/users`` (a guest deleted or changed) and to the members of every
workspace's Team (a guest added or removed by hand). Notifications arrive at ``/hooks/graph``
(``hooks``), are checked against the subscription's secret ``clientState``, stored once in the
inbox (keyed by the notification's id, so a duplicate is dropped) and handled here by a job.
Handling is level-triggered: it never trusts what the notification says changed, it asks for a
reconcile pass and a drift scan, which read the tenant. So out-of-order notifications and a
missed one cannot leave access wrong; the periodic passes remain the safety net.

Subscriptions expire (Graph: members after at most 3 days with a lifecycle URL, users after 29
days); the scheduled ``watch`` job creates what is missing and renews what expires within a day.

Other apps watch resources of their own through ``register`` (files: each workspace drive's
root), so that access never imports them: what they want subscribed, which notification
resources are theirs, and the function that handles one.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from gigbridge import clock
from gigbridge.engagements.models import Engagement
from gigbridge.integrations.msgraph.client import GraphClient
from gigbridge.integrations.msgraph.errors import NotFound, PermanentGraphError
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.models import InboxEvent, OutboxJob
from gigbridge.program.models import Workspace

from .actions import DRIFT_JOB, request_reconcile
from .models import Grant, GraphSubscription

log = logging.getLogger(__name__)
WATCH_JOB = "access.watch"
EVENT_JOB = "access.graph_event"
SOURCE = "graph"
LIFETIME = dt.timedelta(days=2)  # under Graph's 3-day limit for team members
RENEW_BEFORE = dt.timedelta(days=1)
MEMBER_CHANGES = ("created", "updated", "deleted")
USER_CHANGES = ("updated", "deleted")
_TEAM = re.compile(r"teams\('([^']+)'\)/members", re.IGNORECASE)
_USER = re.compile(r"users/([0-9a-f-]{36})", re.IGNORECASE)


@dataclass(frozen=True)
class Watcher:
    """Another app's resources: ``wanted() -> {resource: change types}``, ``match`` finds its
    notifications by resource, ``handle(client, notification) -> outcome`` acts on one."""

    wanted: Callable[[], dict[str, tuple[str, ...]]]
    match: re.Pattern
    handle: Callable[[GraphClient, dict], str]


_watchers: list[Watcher] = []


def register(
    wanted: Callable[[], dict[str, tuple[str, ...]]],
    match: re.Pattern,
    handle: Callable[[GraphClient, dict], str],
) -> None:
    """Called once per app at start (``AppConfig.ready``); the same registration twice is one."""
    watcher = Watcher(wanted, match, handle)
    if watcher not in _watchers:
        _watchers.append(watcher)


def _watcher_for(resource: str) -> Watcher | None:
    return next((w for w in _watchers if w.match.search(resource or "")), None)


def notification_url() -> str:
    return settings.GRAPH["notification_url"] or f"{settings.BASE_URL}/hooks/graph"


def wanted_resources() -> dict[str, tuple[str, ...]]:
    wanted = {"/users": USER_CHANGES}
    for team_id in Workspace.objects.exclude(team_id="").values_list("team_id", flat=True):
        wanted[f"/teams/{team_id}/members"] = MEMBER_CHANGES
    for watcher in _watchers:
        wanted.update(watcher.wanted())
    return wanted


def ensure_subscriptions(client: GraphClient) -> dict[str, int]:
    """Create what is missing, renew what expires soon, delete what no workspace needs."""
    now = clock.now()
    counts = {"created": 0, "renewed": 0, "deleted": 0, "failed": 0}
    wanted = wanted_resources()
    held = {row.resource: row for row in GraphSubscription.objects.all()}
    # Check before act: a subscription made by a pass that died before saving it is in the
    # tenant but not here. Its secret is lost, so it is deleted and made again.
    known_ids = {row.subscription_id for row in held.values()}
    for found in client.list_subscriptions():
        if found.get("notificationUrl") == notification_url() and found["id"] not in known_ids:
            client.delete_subscription(found["id"])
            counts["deleted"] += 1
    for resource, row in held.items():
        if resource not in wanted:
            _drop(client, row)
            counts["deleted"] += 1
    for resource, change_types in wanted.items():
        row = held.get(resource)
        if row is not None and row.expires_at - now > RENEW_BEFORE:
            continue
        if row is not None:
            try:
                client.renew_subscription(row.subscription_id, now + LIFETIME)
                GraphSubscription.objects.filter(pk=row.pk).update(
                    expires_at=now + LIFETIME, renewed_at=now
                )
                counts["renewed"] += 1
                continue
            except NotFound:  # expired or removed by the tenant: make it again
                row.delete()
        try:
            _create(client, resource, change_types, now)
        except PermanentGraphError as error:
            # Typically Graph could not reach /hooks/graph (validation failed): the scheduled
            # passes still keep access right, and the next watch job (15 minutes) tries again.
            log.warning("cannot subscribe to %s: %s", resource, error)
            counts["failed"] += 1
            continue
        counts["created"] += 1
    return counts


def _create(client: GraphClient, resource: str, change_types, now: dt.datetime) -> None:
    secret = secrets.token_urlsafe(32)
    made = client.create_subscription(
        resource,
        change_types,
        notification_url(),
        now + LIFETIME,
        secret,
        lifecycle_url=notification_url(),
    )
    GraphSubscription.objects.create(
        resource=resource,
        subscription_id=made["id"],
        client_state=secret,
        expires_at=now + LIFETIME,
        created_at=now,
    )
    log.info("subscribed to %s", resource)


def _drop(client: GraphClient, row: GraphSubscription) -> None:
    try:
        client.delete_subscription(row.subscription_id)
    except NotFound:
        pass
    row.delete()


def schedule_watch() -> bool:
    """Scheduled: one watch job per 15-minute window, however many schedulers run."""
    from gigbridge.integrations.msgraph import connection

    if not connection.configured():
        return False
    now = clock.now()
    window = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    with transaction.atomic():
        jobs.enqueue(WATCH_JOB, {}, key=f"{WATCH_JOB}:{window.isoformat()}")
    return True


# -- handling one stored notification ---------------------------------------------------------


def handle(client: GraphClient, inbox_id: int) -> str:
    event = InboxEvent.objects.get(pk=inbox_id)
    if event.handled_at is not None:
        return "already handled"
    outcome = _act_on(client, event.payload)
    InboxEvent.objects.filter(pk=inbox_id).update(handled_at=clock.now())
    return outcome


def _act_on(client: GraphClient, notification: dict) -> str:
    lifecycle = notification.get("lifecycleEvent")
    if lifecycle == "missed":
        held = GraphSubscription.objects.filter(
            subscription_id=notification.get("subscriptionId", "")
        ).first()
        watcher = _watcher_for(held.resource) if held is not None else None
        if watcher is not None:  # another app's resource: it catches up in its own way
            return watcher.handle(client, {**notification, "resource": held.resource})
        _scan_drift_soon()
        return f"missed notifications: drift scan queued, {_reconcile(_holding(), 'missed')}"
    if lifecycle:  # reauthorizationRequired, subscriptionRemoved: renew or make again
        GraphSubscription.objects.filter(
            subscription_id=notification.get("subscriptionId", "")
        ).update(expires_at=clock.now())
        ensure_subscriptions(client)
        return f"lifecycle {lifecycle}: subscriptions ensured"
    resource = notification.get("resource") or ""
    if match := _TEAM.search(resource):
        team_id = match.group(1)
        _scan_drift_soon()
        engaged = _holding().filter(request__workspace__team_id=team_id)
        return f"team {team_id} changed: drift scan queued, {_reconcile(engaged, 'team changed')}"
    if match := _USER.search(resource):
        user_id = match.group(1)
        guests = Grant.objects.filter(kind=Grant.Kind.GUEST, external_id__iexact=user_id)
        engaged = Engagement.objects.filter(grants__in=guests).distinct()
        if not engaged.exists():
            _scan_drift_soon()  # a user no engagement explains: maybe a guest added by hand
        with transaction.atomic():
            for engagement in engaged:
                request_reconcile(engagement, "guest account changed in the tenant")
        return f"user {user_id} changed: {len(engaged)} engagement(s) to reconcile"
    if watcher := _watcher_for(resource):
        return watcher.handle(client, notification)
    log.warning("graph notification for an unexpected resource %r ignored", resource[:200])
    return "ignored"


def _holding():
    return Engagement.objects.filter(
        Q(state__in=[Engagement.State.CONTRACTED, Engagement.State.ACTIVE])
        | Q(grants__state=Grant.State.APPLIED)
    ).distinct()


def _reconcile(engagements, reason: str) -> str:
    count = 0
    with transaction.atomic():
        for engagement in engagements:
            request_reconcile(engagement, f"tenant notification: {reason}")
            count += 1
    return f"{count} engagement(s) to reconcile"


def _scan_drift_soon() -> None:
    """One drift scan for a burst of notifications: a scan not yet started covers them all."""
    waiting = OutboxJob.objects.filter(
        kind=DRIFT_JOB, state=OutboxJob.State.PENDING, claimed_until__isnull=True
    )
    if waiting.exists():
        return
    with transaction.atomic():
        jobs.enqueue(DRIFT_JOB, {}, key=f"{DRIFT_JOB}:notified:{clock.now().isoformat()}")
