"""One world time for the sandbox demo: the product's clock follows the sandbox's clock.

In the embedded default (``gigbridge up`` with the sandbox tenant *and* the sandbox marketplace)
a person advances the sandbox clock (the viewer's buttons, ``POST /_sandbox/clock``) to make
freelancers log hours, contracts end and grace periods run out. The product's web, worker and
scheduler must then agree with the sandbox on the date, or hours logged "in the future" never
show and a grace never ends. So the sandbox publishes its clock here and the product follows it.

**The file.** The sandbox writes ``$GIGBRIDGE_DATA_DIR/sandbox/world-clock.json`` (0600, in
the sandbox's private folder, replaced whole so a reader never sees half of it) every time its
clock changes and when it starts: ``{"offset_seconds": n, "now": "...Z", "written": "...Z"}``,
the offset being the sandbox's time minus real time. Both run on one machine (the sandbox
serves on loopback only), so the offset means the same in every process. ``gigbridge up``
hands the path to its web, worker and scheduler in ``GIGBRIDGE_WORLD_CLOCK_FILE``; nothing else
sets it, so a real deployment (real tenant or real marketplace) keeps wall time, and start-up
refuses the variable when Graph or Upwork is not the loopback sandbox.

**Cost.** A process looks at the file at most once every ``CHECK_EVERY`` seconds (one ``stat``;
it reads and parses the file only when its size, time or inode changed). Between looks,
``offset()`` is a monotonic-clock read and a comparison: ``bench/clock_now.py`` measures it.
A change made in the viewer reaches every product process within ``CHECK_EVERY``.

**Never silently wrong.** When the file cannot be read (missing, unreadable, not a valid offset)
the process keeps the last offset it knew (wall time if it never knew one), logs one warning on
``gigbridge.clock`` (not one per call) and one info line when the file is good again.

**Never backwards.** Moving the product's time back would make outbox retries, job leases,
reminders and escalations wait for a moment that already passed (a week back: a week of
silence). So the world time only moves forward: the sandbox keeps the highest offset in the
file when its own clock is set back (the sandbox moves back alone: tests and scripts may do
that through ``/_sandbox/clock``; the viewer offers only forward moves), and a process that
reads a lower offset anyway (a file replaced by hand, a sandbox data folder started afresh)
keeps its own and logs that once. Time meets again once the sandbox clock passes the product's;
to start a demo over, stop and remove the data folder.

No Django here: the sandbox's runner writes the file before Django is set up.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

VARIABLE = "GIGBRIDGE_WORLD_CLOCK_FILE"
FILE_NAME = "world-clock.json"
CHECK_EVERY = 1.0  # seconds between two looks at the file, per process
MAX_OFFSET = 10 * 365 * 86400  # ten years either way, as the sandbox's clock allows
LOOPBACK = {"127.0.0.1", "::1", "localhost"}  # where the sandbox serves, and only there

log = logging.getLogger("gigbridge.clock")


class WorldClockError(ValueError):
    pass


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse(data: bytes) -> float:
    """The offset in a world clock file's bytes; WorldClockError when it is not a sane one."""
    try:
        body = json.loads(data)
    except ValueError:
        raise WorldClockError("not JSON") from None
    value = body.get("offset_seconds") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WorldClockError(f"offset_seconds must be a number, not {value!r}")
    if abs(value) > MAX_OFFSET:
        raise WorldClockError(f"offset_seconds {value} is beyond ten years")
    return float(value)


def read(path: Path) -> float:
    return parse(Path(path).read_bytes())


def render(offset: float) -> bytes:
    wall = dt.datetime.now(dt.UTC)
    body = {
        "offset_seconds": offset,
        "now": _stamp(wall + dt.timedelta(seconds=offset)),
        "written": _stamp(wall),
    }
    return json.dumps(body).encode() + b"\n"


def publish(path: Path, offset: float, write) -> float:
    """Make the file hold ``offset`` unless it already holds a higher one (forward only);
    answers the offset the file holds after. ``write(path, bytes)`` replaces a file whole
    (the sandbox's ``write_private``). Callers hold a lock around it (gigbridge.locks)."""
    try:
        held = read(path)
    except (OSError, WorldClockError):
        held = None
    if held is not None and held >= offset:
        return held
    write(path, render(offset))
    return offset


class Follower:
    """The sandbox's clock offset as one process knows it, refreshed from the file."""

    def __init__(self, path: Path | str, check_every: float = CHECK_EVERY, monotonic=None):
        self.path = Path(path)
        self.check_every = check_every
        self._monotonic = monotonic or time.monotonic
        self._offset = dt.timedelta(0)
        self.known = False  # read at least once
        self.problem: str | None = None  # why the last look failed, while it fails
        self._signature: tuple | None = None
        self._next_look = -math.inf

    def offset(self) -> dt.timedelta:
        """The world's offset from real time: the cached one, looked up again when due."""
        moment = self._monotonic()
        if moment >= self._next_look:
            self.look(moment)
        return self._offset

    def offset_seconds(self) -> float:
        return self.offset().total_seconds()

    def look(self, moment: float | None = None) -> None:
        """Read the file now if it changed (the next look is ``check_every`` later)."""
        self._next_look = (self._monotonic() if moment is None else moment) + self.check_every
        try:
            stat = os.stat(self.path)
            signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            if signature == self._signature:
                self._recovered()
                return
            seconds = read(self.path)
        except (OSError, WorldClockError) as exc:
            self._failed(exc)
            return
        self._signature = signature
        self._recovered()
        wanted = dt.timedelta(seconds=seconds)
        if self.known and wanted < self._offset:
            log.warning(
                "the sandbox clock in %s went back by %s; this process keeps its time (it never "
                "goes back) until the sandbox passes it",
                self.path,
                self._offset - wanted,
            )
            return
        self._offset, self.known = wanted, True

    def _failed(self, exc: Exception) -> None:
        reason = str(exc) if isinstance(exc, WorldClockError) else exc.__class__.__name__
        if self.problem is None:
            kept = (
                f"keeping the last known offset ({self._offset.total_seconds():.0f} s)"
                if self.known
                else "using wall time until it can be read"
            )
            log.warning("cannot read the sandbox clock %s (%s): %s", self.path, reason, kept)
        self.problem = reason

    def _recovered(self) -> None:
        if self.problem is not None:
            log.info("the sandbox clock %s can be read again", self.path)
            self.problem = None


def from_environment() -> Follower | None:
    path = os.environ.get(VARIABLE)
    return Follower(path) if path else None


def config_problems(path: str | None, urls: dict[str, str]) -> list[str]:
    """Why this process must not start with ``GIGBRIDGE_WORLD_CLOCK_FILE=path``: a service in
    ``urls`` (setting name -> URL) that is not the loopback sandbox (a real tenant or
    marketplace keeps wall time), or a file that cannot be read (start the sandbox first)."""
    if not path:
        return []
    real = [name for name, url in urls.items() if urlsplit(url or "").hostname not in LOOPBACK]
    if real:
        return [
            f"{VARIABLE} makes Gigbridge's clock follow the sandbox's, but {', '.join(real)} "
            "is not the sandbox: a real tenant or marketplace runs on wall time; unset it"
        ]
    try:
        read(Path(path))
    except (OSError, WorldClockError) as exc:
        reason = str(exc) if isinstance(exc, WorldClockError) else exc.strerror or exc
        return [
            f"{VARIABLE}={path} cannot be read ({reason}): start the sandbox first "
            "(`gigbridge sandbox info` writes it), or unset the variable for wall time"
        ]
    return []
