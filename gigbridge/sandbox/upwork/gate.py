"""Rate limit and injected faults for ``/upwork/graphql``, set by the dials (``control``).

The limit is a token bucket per client IP address, as Upwork documents its limit (about 10
requests a second per IP): two apps or two tokens on one machine share it. ``burst`` tokens,
refilled at ``rate`` a second (default 10 and 10), on the sandbox clock, so a test advances
``/_sandbox/clock`` instead of sleeping. Beyond it: 429 with ``Retry-After`` (whole seconds).
The address is the connection's (``REMOTE_ADDR``): gunicorn serves the sandbox itself on
loopback, with no proxy in front whose ``X-Forwarded-For`` could be trusted.

Then, with ``error_rate`` > 0, a request may get 503 (with a seed, the sequence replays);
``latency_ms`` delays every request (real time). The bucket is the Graph emulator's
(``graph.throttle.take``) on this part's own rows (their ``client_id`` column holds the
address); only the answers differ.
"""

from __future__ import annotations

import time

from django.db import transaction
from django.http import JsonResponse

from ..graph import dials as graph_dials
from ..graph.throttle import take
from .models import Dials, ThrottleBucket


def dials() -> Dials:
    return Dials.objects.filter(pk=1).first() or Dials(pk=1)


def check(address: str) -> JsonResponse | None:
    """None to go on, or the 429/503 answer for a request from the IP ``address``."""
    row = dials()
    if row.latency_ms:
        time.sleep(row.latency_ms / 1000)
    if row.rate is None and row.error_rate <= 0:
        return None
    with transaction.atomic():
        row = dials()
        if row.rate is not None:
            wait = take(ThrottleBucket, address, row.rate, row.burst)
            if wait is not None:
                return _error(429, "Too many requests, slow down.", wait)
        if row.error_rate > 0:
            counter = row.fault_counter
            Dials.objects.filter(pk=1).update(fault_counter=counter + 1)
            if graph_dials.draw_fails(row.fault_seed, counter, row.error_rate):
                return _error(503, "Service temporarily unavailable.", row.retry_after)
    return None


def _error(status: int, message: str, retry_after: int) -> JsonResponse:
    body = {"errors": [{"message": message, "extensions": {"code": str(status)}}]}
    return JsonResponse(body, status=status, headers={"Retry-After": str(retry_after)})
