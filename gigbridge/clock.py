"""The one source of "now" for business logic, so tests can move time without sleeping.

Business time is real time, unless a test or a simulation shifts it (``start_at``: the clock
reads that instant and runs on from it) or freezes it (``set_now``). A process started by a test
inherits the shift through ``GIGBRIDGE_CLOCK_OFFSET_SECONDS`` (business time minus real time), so
a worker and the test that started it agree on the date. Never set it in production. What must
stay on real time (token expiry, TLS, rate limiters' monotonic clocks) does not use this module.

In the embedded default with the sandbox (``gigbridge up``), business time is the sandbox's
world time instead: ``GIGBRIDGE_WORLD_CLOCK_FILE`` names the file the sandbox publishes its
clock in, and ``now()`` follows it (see ``gigbridge.worldclock``: cached, forward only, never
silently wrong). Which wins: a frozen clock (``set_now``), then the world clock when followed,
then the shift. Tests never follow it unless a test calls ``follow``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from django.utils import timezone

from gigbridge import worldclock

OFFSET_VARIABLE = "GIGBRIDGE_CLOCK_OFFSET_SECONDS"
WORLD_VARIABLE = worldclock.VARIABLE

_override: dt.datetime | None = None
_offset = dt.timedelta(seconds=float(os.environ.get(OFFSET_VARIABLE) or 0))
_world: worldclock.Follower | None = worldclock.from_environment()


def now() -> dt.datetime:
    if _override is not None:
        return _override
    world = _world
    if world is not None:
        return timezone.now() + world.offset()
    return timezone.now() + _offset


def today() -> dt.date:
    return timezone.localdate(now())


def set_now(value: dt.datetime | None) -> None:
    """Freeze the clock at ``value`` (None lets it run again). For tests and simulations."""
    global _override
    _override = value


def start_at(moment: dt.datetime | None) -> None:
    """Make the clock read ``moment`` now and run on from it (None: real time). Unfreezes."""
    global _offset
    set_now(None)
    _offset = dt.timedelta(0) if moment is None else moment - timezone.now()


def offset_seconds() -> float:
    """Business time minus real time at this moment (frozen or shifted), for a child process's
    ``GIGBRIDGE_CLOCK_OFFSET_SECONDS``."""
    return (now() - timezone.now()).total_seconds()


def follow(path: Path | str | None, **options) -> worldclock.Follower | None:
    """Follow the sandbox's world clock file at ``path`` (None: stop following). ``options``
    go to ``worldclock.Follower`` (``check_every``, ``monotonic``), for tests."""
    global _world
    _world = worldclock.Follower(path, **options) if path else None
    return _world


def world() -> worldclock.Follower | None:
    """The world clock this process follows, or None (wall time, or a test's pinned time)."""
    return _world
