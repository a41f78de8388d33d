"""Throttling per app and injected faults, applied to every Graph request (and batch item).

Throttling is a token bucket per client id (``appid`` of the token) holding at most ``burst``
tokens and gaining ``rate`` a second; a request takes one, and with none left it gets 429
``TooManyRequests`` with ``Retry-After`` (whole seconds until a token is back). A refused request
takes nothing. Time is the sandbox clock (``/_sandbox/clock``), so a test can make a
throttled app's wait pass at once. The buckets live in the database so every sandbox worker
shares them. ``take`` is the bucket itself, on any ``models.TokenBucket`` model: the Upwork
emulator's gate (``upwork.gate``) takes from its own buckets with it.

Faults: after throttling, a request is answered 503 ``serviceNotAvailable`` (with
``Retry-After``) when ``dials.draw_fails(seed, n, error_rate)`` says so, ``n`` counting the
requests drawn since the faults were last set: with a seed the sequence can be replayed.
"""

from __future__ import annotations

from ..m365files import clock
from ..models import GraphSettings, GraphThrottleBucket
from . import dials
from .dispatch import GraphRequest, GraphResponse
from .errors import GraphError


def settings_row() -> GraphSettings:
    row = GraphSettings.objects.filter(pk=1).first()
    return row if row is not None else GraphSettings(pk=1)


def gate(request: GraphRequest) -> GraphResponse | None:
    """None to go on, or the 429/503 answer for this request."""
    from django.db import transaction

    row = settings_row()
    if row.throttle_rate is None and row.error_rate <= 0:
        return None
    with transaction.atomic():
        row = settings_row()  # again, now under the write lock
        if row.throttle_rate is not None:
            wait = take(
                GraphThrottleBucket,
                request.principal.client_id,
                row.throttle_rate,
                row.throttle_burst or 1,
            )
            if wait is not None:
                return request.error(
                    GraphError(
                        429,
                        "TooManyRequests",
                        "Too many requests from this application. Please try again later.",
                        headers={"Retry-After": str(wait)},
                    )
                )
        if row.error_rate > 0:
            counter = row.fault_counter
            GraphSettings.objects.filter(pk=row.pk).update(fault_counter=counter + 1)
            if dials.draw_fails(row.fault_seed, counter, row.error_rate):
                return request.error(
                    GraphError(
                        503,
                        "serviceNotAvailable",
                        "The service is temporarily unavailable. Please retry later.",
                        headers={"Retry-After": str(row.fault_retry_after)},
                    )
                )
    return None


def take(bucket_model, client_id: str, rate: float, burst: int) -> int | None:
    """Take a token from the app's bucket (a row of ``bucket_model``, a ``TokenBucket``): None if
    taken, else seconds to wait."""
    now = clock.now().timestamp()  # the sandbox clock: tests advance it instead of sleeping
    bucket = bucket_model.objects.filter(client_id=client_id).first()
    if bucket is None:
        bucket = bucket_model(client_id=client_id, tokens=float(burst), updated_at=now)
    tokens = min(float(burst), bucket.tokens + max(0.0, now - bucket.updated_at) * rate)
    bucket.updated_at = now
    if tokens < 1:
        bucket.tokens = tokens
        bucket.save()
        return dials.retry_after(tokens, rate)
    bucket.tokens = tokens - 1
    bucket.save()
    return None
