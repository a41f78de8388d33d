"""Signed checkpoints of the audit chain, kept outside the database.

A hash chain shows any change inside it, but not its end cut off with the tip moved back: what
is left is still a valid chain. So the scheduler appends, every
GIGBRIDGE_AUDIT_CHECKPOINT_MINUTES while the chain grows, one line to an append-only file
outside the database: how many events the chain had, the last one's hash, when, the previous
line's signature and an HMAC over all of that with the audit key. ``gigbridge audit verify``
checks the chain against every line. The database notes each checkpoint written too, so a
deleted or rolled-back file is reported. Optionally each checkpoint is mailed to the auditors.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

from django.conf import settings
from django.db import transaction

from gigbridge import clock

from .keys import mac, same
from .models import AuditCheckpoint, AuditEvent

log = logging.getLogger(__name__)

FILE_NAME = "checkpoints.jsonl"
GENESIS = "0" * 64
MAIL_TEMPLATE = "audit_checkpoint"


class CheckpointError(Exception):
    pass


@dataclass(frozen=True)
class Checkpoint:
    number: int
    at: str  # ISO 8601 UTC, as written
    events: int
    last_hash: str
    prev: str  # the previous checkpoint's mac: a removed line breaks the sequence
    mac: str

    @property
    def label(self) -> str:
        return f"checkpoint of {_label(dt.datetime.fromisoformat(self.at))}"

    def message(self) -> str:
        return f"{self.number}|{self.at}|{self.events}|{self.last_hash}|{self.prev}"

    def line(self) -> str:
        return json.dumps(
            {
                "checkpoint": self.number,
                "at": self.at,
                "events": self.events,
                "last_hash": self.last_hash,
                "prev": self.prev,
                "mac": self.mac,
            },
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, line: str) -> Checkpoint:
        """Raises ValueError for anything that is not a checkpoint line."""
        try:
            data = json.loads(line)
            checkpoint = cls(
                number=int(data["checkpoint"]),
                at=str(data["at"]),
                events=int(data["events"]),
                last_hash=str(data["last_hash"]),
                prev=str(data["prev"]),
                mac=str(data["mac"]),
            )
            dt.datetime.fromisoformat(checkpoint.at)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(str(exc)) from exc
        return checkpoint


def _label(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


def _sign(key: str, checkpoint: Checkpoint) -> str:
    return mac(key, "audit-checkpoint", checkpoint.message())


def default_file() -> Path:
    return Path(settings.GIGBRIDGE_AUDIT_CHECKPOINT_DIR) / FILE_NAME


# -- writing ----------------------------------------------------------------------------------


def checkpoint_due() -> int | None:
    """Scheduled: a checkpoint when the last is older than the interval and the chain grew.

    Several schedulers may run: the file lock serialises them and the second sees the first's
    line, so one checkpoint is written per interval."""
    checkpoint = write(force=False)
    return checkpoint.number if checkpoint else None


def write(force: bool = True) -> Checkpoint | None:
    """Append one checkpoint of the chain as stored now (``force``: even if nothing changed)."""
    key = settings.GIGBRIDGE_AUDIT_KEY
    path = default_file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        os.fchmod(fd, 0o600)  # also for a file an operator copied in with a looser mode
        last = _last_line(handle, path)
        tip = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
        events, last_hash = (tip.seq, tip.hash) if tip else (0, GENESIS)
        now = clock.now()
        if not force and _not_due(last, events, last_hash, now):
            return None
        recorded = AuditCheckpoint.objects.order_by("-number").first()
        # Past the database's count too: after a lost file the gap stays visible (verify says
        # the new first line does not follow the checkpoints the database remembers).
        number = max(last.number if last else 0, recorded.number if recorded else 0) + 1
        unsigned = Checkpoint(
            number=number,
            at=now.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            events=events,
            last_hash=last_hash,
            prev=last.mac if last else GENESIS,
            mac="",
        )
        checkpoint = replace(unsigned, mac=_sign(key, unsigned))
        handle.write(checkpoint.line().encode() + b"\n")
        handle.flush()
        os.fsync(fd)
        with transaction.atomic():
            AuditCheckpoint.objects.create(
                number=number, written_at=now, events=events, last_hash=last_hash
            )
            _mail_auditors(checkpoint)
    log.info("audit checkpoint #%s written: %s events", number, events)
    return checkpoint


def _not_due(last: Checkpoint | None, events: int, last_hash: str, now: dt.datetime) -> bool:
    if last is None:
        return events == 0  # nothing to anchor yet
    if (last.events, last.last_hash) == (events, last_hash):
        return True  # the chain did not move: the last line still says all there is
    interval = dt.timedelta(minutes=settings.GIGBRIDGE_AUDIT_CHECKPOINT_MINUTES)
    return now - dt.datetime.fromisoformat(last.at) < interval


def _last_line(handle, path: Path) -> Checkpoint | None:
    size = handle.seek(0, os.SEEK_END)
    if size == 0:
        return None
    handle.seek(max(0, size - 8192))
    lines = [line for line in handle.read().splitlines() if line.strip()]
    if not lines:
        return None
    try:
        return Checkpoint.parse(lines[-1].decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(
            f"the last line of {path} is not a checkpoint; run `gigbridge audit verify`"
        ) from exc


def _mail_auditors(checkpoint: Checkpoint) -> None:
    """A copy of each checkpoint in the auditors' mailboxes: outside the server altogether."""
    if not settings.GIGBRIDGE_AUDIT_CHECKPOINT_MAIL:
        return
    from django.contrib.auth import get_user_model

    from gigbridge.notifications.actions import mail
    from gigbridge.people.models import Role

    auditors = get_user_model().objects.filter(is_active=True, role_assignments__role=Role.AUDITOR)
    context = {
        "number": checkpoint.number,
        "at": checkpoint.at,
        "events": checkpoint.events,
        "line": checkpoint.line(),
    }
    for user in auditors.distinct():
        mail(user, MAIL_TEMPLATE, context, key=str(checkpoint.number))


# -- checking ---------------------------------------------------------------------------------


@dataclass
class CheckpointLog:
    valid: list[Checkpoint]  # lines whose signature holds
    problems: list[str]


def read(path: Path | None = None) -> CheckpointLog:
    """Every checkpoint line, checked for its signature and its place in the sequence.

    ``path``: some other file of checkpoint lines, such as those kept from the auditors' mails;
    it may hold any of them, so only their signatures are checked, not the sequence."""
    key = settings.GIGBRIDGE_AUDIT_KEY
    excerpt = path is not None
    path = path or default_file()
    recorded = None if excerpt else AuditCheckpoint.objects.order_by("-number").first()
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        if recorded is None and not excerpt:
            return CheckpointLog([], [])  # none written yet
        missing = f"the checkpoint file {path} is missing"
        if recorded is not None:
            missing += (
                f", but {recorded.number} checkpoints were written "
                f"(the last on {_label(recorded.written_at)})"
            )
        return CheckpointLog([], [missing])
    except OSError as exc:  # e.g. a folder this process may not read: say so, do not crash
        return CheckpointLog([], [f"the checkpoint file {path} cannot be read: {exc.strerror}"])
    valid: list[Checkpoint] = []
    problems: list[str] = []
    number, prev = 0, GENESIS
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            checkpoint = Checkpoint.parse(line)
        except ValueError:
            problems.append(f"{where}: not a checkpoint line (the file was edited)")
            continue
        if not same(checkpoint.mac, _sign(key, checkpoint)):
            problems.append(
                f"{where}: the {checkpoint.label} does not match its signature "
                "(the file was edited, or signed with another key)"
            )
        else:
            if not excerpt and (checkpoint.number != number + 1 or checkpoint.prev != prev):
                problems.append(
                    f"{where}: checkpoint #{checkpoint.number} does not follow checkpoint "
                    f"#{number} (checkpoints were removed, re-ordered or the file replaced)"
                )
            valid.append(checkpoint)
        number, prev = checkpoint.number, checkpoint.mac
    if recorded and number < recorded.number:
        problems.append(
            f"the checkpoint file {path} ends at checkpoint #{number} but checkpoint "
            f"#{recorded.number} was written on {_label(recorded.written_at)} "
            "(the file was cut or replaced by an older copy)"
        )
    return CheckpointLog(valid, problems)


def compare(checkpoints: list[Checkpoint], walk) -> list[str]:
    """The chain as stored against what each checkpoint saw (``walk``: actions.ChainWalk)."""
    problems: list[str] = []
    longest = max(checkpoints, key=lambda c: c.events, default=None)
    if longest and longest.events > walk.last_seq:
        problems.append(
            f"the chain ends at event {walk.last_seq} but {longest.label} recorded "
            f"{longest.events} events"
        )
    for checkpoint in sorted(checkpoints, key=lambda c: c.events):
        if checkpoint.events == 0 or checkpoint.events > walk.last_seq:
            continue
        stored = walk.hashes.get(checkpoint.events)
        if stored is None:
            problems.append(
                f"event {checkpoint.events}, the last one {checkpoint.label} recorded, is missing"
            )
        elif not same(stored, checkpoint.last_hash):
            problems.append(
                f"event {checkpoint.events} is not the one {checkpoint.label} recorded "
                "(the chain was rewritten up to there)"
            )
        else:
            continue
        break  # the earliest mismatch says where; later ones follow from it
    return problems
