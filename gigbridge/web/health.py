"""GET /healthz: database, worker heartbeat, queue depth, policy, integrations (Microsoft 365,
Upwork, the Teams bot, the virus scanner). 200 when healthy, else 503."""

from __future__ import annotations

import datetime as dt
import time

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from gigbridge import clock
from gigbridge.jobs.models import OutboxJob, WorkerHeartbeat
from gigbridge.jobs.worker import HEARTBEAT_SECONDS
from gigbridge.program.models import PolicyVersion

STALE_AFTER = dt.timedelta(seconds=HEARTBEAT_SECONDS * 3)
# The tenant check fetches a token (a network call): at most once a minute per process.
TENANT_CHECK_EVERY = 60.0
_tenant_cache: dict = {}


def _tenant_health() -> dict:
    from gigbridge.integrations.msgraph import connection

    now = time.monotonic()
    if not _tenant_cache or now - _tenant_cache["at"] > TENANT_CHECK_EVERY:
        _tenant_cache.update(at=now, result=connection.health())
    result = dict(_tenant_cache["result"])
    failing = _failing_tenant_work()
    if failing:
        # A cached token can hide an outage: the workers' failed calls are the better witness.
        result.update(ok=False, waiting_jobs=failing["count"], detail=failing["last_error"])
    return result


def _failing_tenant_work() -> dict | None:
    """Outbox work waiting to retry because a Graph call failed (the message starts "Graph ")."""
    waiting = OutboxJob.objects.filter(
        state=OutboxJob.State.PENDING, attempts__gt=0, last_error__startswith="Graph "
    )
    last = waiting.order_by("-next_attempt_at").values_list("last_error", flat=True).first()
    return {"count": waiting.count(), "last_error": last[:300]} if last else None


def _upwork_health() -> dict:
    """Reads Upwork's connection rows only (no call to Upwork); never raises."""
    try:
        from gigbridge.integrations.upwork import connection

        return connection.health()
    except Exception as exc:  # report, never raise
        return {"ok": False, "state": "error", "detail": type(exc).__name__}


def _teams_health() -> dict:
    """Configured or not (no call to the Connector); outbox work waiting because a Teams call
    failed (its error starts "Teams ") makes it not ok, as for the tenant."""
    try:
        from gigbridge.integrations.teams import client

        result = client.health()
    except Exception as exc:  # report, never raise
        return {"configured": False, "ok": False, "detail": type(exc).__name__}
    if result.get("configured"):
        waiting = OutboxJob.objects.filter(
            state=OutboxJob.State.PENDING, attempts__gt=0, last_error__startswith="Teams "
        )
        last = waiting.order_by("-next_attempt_at").values_list("last_error", flat=True).first()
        if last:
            result.update(ok=False, waiting_jobs=waiting.count(), detail=last[:300])
    return result


def _scanner_health() -> dict:
    """clamd's PING/VERSION over its socket (a local call, bounded); never raises."""
    try:
        from gigbridge.integrations.clamav import health

        return health.health(clock.now())
    except Exception as exc:  # report, never raise
        return {"configured": True, "ok": False, "state": "down", "detail": type(exc).__name__}


def _clock_health() -> dict:
    """Wall time, or the sandbox's world time this process follows (gigbridge.worldclock): its
    offset and, while its file cannot be read, why (the last known offset is kept meanwhile)."""
    world = clock.world()
    if world is None:
        return {"follows": "wall time", "now": clock.now().isoformat()}
    offset = world.offset_seconds()
    return {
        "follows": "sandbox clock",
        "now": clock.now().isoformat(),
        "offset_seconds": round(offset),
        "file_readable": world.problem is None,
        "problem": world.problem,
    }


def report() -> tuple[str, dict]:
    """("ok" | "degraded" | "unhealthy", the body): what /healthz answers and the program
    admin's home shows in words (``gigbridge.web.home``)."""
    body: dict = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        body["database"] = {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # report, never raise: this page is how operators see the outage
        body["database"] = {"ok": False, "error": type(exc).__name__}
        return "unhealthy", body
    now = clock.now()
    beat = WorkerHeartbeat.objects.order_by("-last_seen").first()
    live = WorkerHeartbeat.objects.filter(last_seen__gte=now - STALE_AFTER).count()
    body["worker"] = {
        "ok": live > 0,
        "live_workers": live,
        "last_heartbeat": beat.last_seen.isoformat() if beat else None,
    }
    pending = OutboxJob.objects.filter(state=OutboxJob.State.PENDING)
    oldest = pending.order_by("created_at").values_list("created_at", flat=True).first()
    body["queue"] = {
        "depth": pending.count(),
        "oldest_pending_seconds": int((now - oldest).total_seconds()) if oldest else 0,
        "dead": OutboxJob.objects.filter(state=OutboxJob.State.DEAD).count(),
    }
    version = PolicyVersion.objects.order_by("-number").first()
    body["policy"] = {"ok": version is not None, "version": version.number if version else None}
    body["integrations"] = {
        "microsoft365": _tenant_health(),
        "upwork": _upwork_health(),
        "teams": _teams_health(),
        "scanner": _scanner_health(),
    }
    body["clock"] = _clock_health()  # informative: which time this process runs on
    healthy = (
        body["worker"]["ok"]
        and body["policy"]["ok"]
        and all(integration["ok"] for integration in body["integrations"].values())
    )
    return ("ok" if healthy else "degraded"), body


@require_GET
def healthz(request):
    status, body = report()
    return JsonResponse({"status": status, **body}, status=200 if status == "ok" else 503)
