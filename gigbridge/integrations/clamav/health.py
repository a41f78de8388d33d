"""The scanner's line on /healthz: reachable, engine, signature database version and age.

    state "ok"              clamd answers; its database is fresh (or the embedded test database)
    state "degraded"        clamd answers, but its signatures are older than 7 days (freshclam?)
    state "down"            no clamd answers at the configured address
    state "not configured"  GIGBRIDGE_CLAMD_ADDRESS is unset: nothing is scanned

``ok`` is false for "degraded" and "down": the page turns 503 so that monitoring sees it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from .client import Clamd
from .errors import ClamdError, ClamdUnavailable

STALE_AFTER_DAYS = 7  # freshclam updates several times a day; a week means it stopped
HEALTH_TIMEOUT = 2.0  # seconds: the health page must answer even when clamd does not


def health(now: dt.datetime) -> dict:
    address = settings.CLAMAV.get("address")
    if not address:
        return {
            "configured": False,
            "ok": True,
            "state": "not configured",
            "detail": "no clamd configured (GIGBRIDGE_CLAMD_ADDRESS): deliverables are not scanned",
        }
    try:
        version = Clamd(address, timeout=HEALTH_TIMEOUT).version()
    except (ClamdUnavailable, ClamdError, ValueError) as exc:
        return {"configured": True, "ok": False, "state": "down", "detail": str(exc)[:300]}
    result = {
        "configured": True,
        "address": address,
        "engine": version.engine,
        "database": version.database,
        "database_date": version.database_date.isoformat() if version.database_date else None,
        "database_age_days": None,
    }
    if version.database_date is None:
        # Our own clamd's one-line EICAR database has no version: fine for the embedded default.
        return {
            **result,
            "ok": True,
            "state": "ok",
            "detail": "no versioned signature database (test signatures only)",
        }
    age = max(0, (now - version.database_date).days)
    result["database_age_days"] = age
    if age > STALE_AFTER_DAYS:
        return {
            **result,
            "ok": False,
            "state": "degraded",
            "detail": f"signatures are {age} days old: is freshclam running?",
        }
    return {**result, "ok": True, "state": "ok"}
