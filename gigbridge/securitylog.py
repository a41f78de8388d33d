"""The security log: one line per refused attempt, kept apart from the business audit trail.

Refusals (a 403, or a 404 for something the user may not see) are security signals, not business
events: recording them in the hash-chained audit trail let anyone grow it by trying. They go to
the ``gigbridge.security`` logger instead, rate limited per actor and in total, so a flood of
attempts cannot fill a disk: past the limit, lines are counted and one ``suppressed`` line per
actor says how many were dropped when its minute is over.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from gigbridge import clock

logger = logging.getLogger("gigbridge.security")

PER_ACTOR_PER_MINUTE = 20
TOTAL_PER_MINUTE = 600
WINDOW = dt.timedelta(minutes=1)
# Actors tracked at once; beyond it new actors only count towards the total (memory stays bounded).
MAX_ACTORS = 10_000

_UNSAFE = re.compile(r"[^\w.@+:/-]")


def _value(text) -> str:
    """A log-safe field: no control characters (no forged lines), quoted when it has spaces."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(text))[:200]
    return f'"{text.replace(chr(34), chr(39))}"' if _UNSAFE.search(text) or not text else text


@dataclass
class _Window:
    started: dt.datetime
    lines: int = 0
    suppressed: int = 0


class RateLimitedLog:
    """At most ``per_key`` lines per key and ``total`` lines overall in each ``window``."""

    def __init__(
        self,
        log: logging.Logger,
        *,
        per_key: int = PER_ACTOR_PER_MINUTE,
        total: int = TOTAL_PER_MINUTE,
        window: dt.timedelta = WINDOW,
        now: Callable[[], dt.datetime] = clock.now,
    ):
        self.log, self.per_key, self.total, self.window, self._now = (
            log,
            per_key,
            total,
            window,
            now,
        )
        self._lock = threading.Lock()
        self._keys: dict[str, _Window] = {}
        self._all: _Window | None = None

    def emit(self, key: str, message: str) -> bool:
        """Log ``message`` unless ``key`` or everyone is over the limit. True if it was logged."""
        with self._lock:
            now = self._now()
            self._close_windows(now)
            if self._all is None:
                self._all = _Window(now)
            mine = self._keys.get(key)
            if mine is None and len(self._keys) < MAX_ACTORS:
                mine = self._keys[key] = _Window(now)
            if mine is not None and mine.lines >= self.per_key:
                mine.suppressed += 1
                return False
            if self._all.lines >= self.total:
                self._all.suppressed += 1
                return False
            self._all.lines += 1
            if mine is not None:
                mine.lines += 1
        self.log.warning(message)
        return True

    def _close_windows(self, now: dt.datetime) -> None:
        ended = [k for k, w in self._keys.items() if now - w.started >= self.window]
        for key in ended:
            window = self._keys.pop(key)
            if window.suppressed:
                self.log.warning(
                    "suppressed %d more refusals of actor=%s in the minute from %s",
                    window.suppressed,
                    key,
                    window.started.isoformat(timespec="seconds"),
                )
        if self._all is not None and now - self._all.started >= self.window:
            if self._all.suppressed:
                self.log.warning(
                    "suppressed %d more refusals of all actors in the minute from %s",
                    self._all.suppressed,
                    self._all.started.isoformat(timespec="seconds"),
                )
            self._all = None

    def reset(self) -> None:
        with self._lock:
            self._keys.clear()
            self._all = None


_log = RateLimitedLog(logger)


def actor_of(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return user.get_username()


def object_ref(obj) -> str:
    """``approvalstep:42`` for a model instance; strings pass through."""
    if obj is None:
        return "-"
    if isinstance(obj, str):
        return obj
    return f"{obj._meta.model_name}:{obj.pk}"


def refused(user, action: str, obj=None, *, status: int = 403, reason: str = "") -> bool:
    """Record one refused attempt: who, what, on which object, the answer and why.

    ``user`` is a user or, for requests without one (webhooks), a string such as the address.
    Returns whether the line was written (False when rate limited).
    """
    actor = user if isinstance(user, str) else actor_of(user)
    return _log.emit(
        actor,
        f"refused actor={_value(actor)} action={_value(action)} object={_value(object_ref(obj))}"
        f" status={status} reason={_value(reason or '-')}",
    )


def content_length(request) -> int:
    """The body length a request declares (0 when absent or not a number)."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def refused_post(request, route: str, what: str, reason: str, response):
    """The one log line of a refused webhook post: what and from where, nothing the sender
    wrote (rate limited per sender like every refusal); returns ``response``, marked logged so
    Django's request logger adds no second line for the same 4xx."""
    refused(
        f"address:{request.META.get('REMOTE_ADDR', '?')[:64]}",
        f"POST {route}",
        status=response.status_code,
        reason=f"{what} refused: {reason} ({content_length(request)} bytes)",
    )
    response._has_been_logged = True
    return response


def reset() -> None:
    """Forget the counts (tests)."""
    _log.reset()
