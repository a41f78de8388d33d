"""The sandbox publishes its clock for the product to follow (``gigbridge.worldclock``).

``publish(offset)`` runs whenever the sandbox's clock offset is set, and once when the sandbox
starts (``server.prepare``), so the file exists before ``gigbridge up`` starts the product's
processes. Forward only: when the sandbox's clock is set back, the file keeps the highest
offset it held, and ``held()`` says what the product follows. A lock keeps two gunicorn workers
from publishing over each other (read, compare, write).

No Django here: the runner calls it before (or without) Django being set up.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gigbridge import worldclock
from gigbridge.locks import locked

from .paths import sandbox_dir, write_private


def path() -> Path:
    return sandbox_dir() / worldclock.FILE_NAME


def publish(offset: float) -> float:
    """Make the product's world time at least the sandbox's clock; answers the offset it
    follows (higher than ``offset`` when the sandbox's clock was set back)."""
    with locked(sandbox_dir() / ".world-clock.lock"):
        return worldclock.publish(path(), offset, write_private)


def held() -> float | None:
    """The offset the product follows now, or None when nothing was published yet."""
    try:
        return worldclock.read(path())
    except (OSError, worldclock.WorldClockError):
        return None


def world_now() -> dt.datetime | None:
    offset = held()
    if offset is None:
        return None
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset)
