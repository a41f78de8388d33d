"""Writing and verifying the audit chain.

Domain actions call ``record`` inside their own transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from gigbridge import clock

from .keys import legacy_seal, mac, same
from .models import AuditEvent, AuditHead

GENESIS = "0" * 64
UNKEYED, KEYED = 1, 2  # AuditEvent.hash_version


def _canonical(value: Any) -> Any:
    """JSON-safe, stable form of before/after payloads (dates, decimals, UUIDs as strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True))


def compute_hash(event: AuditEvent, key: str | None = None) -> str:
    """Version 2: HMAC-SHA256 with the audit key; version 1 (written before the key): SHA-256."""
    body = {
        "seq": event.seq,
        "created_at": event.created_at.astimezone(dt.UTC).isoformat(),
        "actor_user": event.actor_user_id,
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "policy_version": event.policy_version,
        "rule": event.rule,
        "prev_hash": event.prev_hash,
    }
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    if event.hash_version == UNKEYED:
        return hashlib.sha256(encoded.encode()).hexdigest()
    return mac(key or settings.GIGBRIDGE_AUDIT_KEY, "audit-event", encoded)


def actor_label(user) -> str:
    if user is None:
        return "system"
    return user.get_username() if getattr(user, "is_authenticated", False) else "anonymous"


def record(
    *,
    user,
    action: str,
    obj=None,
    object_type: str = "",
    object_id: str | int = "",
    before: dict | None = None,
    after: dict | None = None,
    policy_version: int | None = None,
    rule: str = "",
    actor: str | None = None,
) -> AuditEvent:
    """Append one event. Must run inside the caller's transaction (the action's one transaction)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must be called inside the action's transaction")
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or obj.pk
    head, _ = AuditHead.objects.get_or_create(id=1)
    head = AuditHead.objects.select_for_update().get(id=1)
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    event = AuditEvent(
        seq=head.seq + 1,
        created_at=clock.now(),
        actor_user_id=user.pk if authenticated else None,
        actor=actor or actor_label(user),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=_canonical(before) if before is not None else None,
        after=_canonical(after) if after is not None else None,
        policy_version=policy_version,
        rule=rule,
        prev_hash=head.hash,
        hash_version=KEYED,
    )
    event.hash = compute_hash(event)
    event.save(force_insert=True)
    head.seq, head.hash = event.seq, event.hash
    head.save(update_fields=["seq", "hash"])
    return event


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    # Every problem found, chain and checkpoints, each a sentence naming what is wrong.
    problems: list[str] = field(default_factory=list)
    checkpoints: int = 0  # valid checkpoints the chain was checked against


@dataclass
class ChainWalk:
    """What one pass over the stored events found."""

    checked: int = 0  # events verified before the first break
    last_seq: int = 0  # the last stored event, intact or not
    broken_seq: int | None = None
    reason: str = ""
    hashes: dict[int, str] = field(default_factory=dict)  # stored hash of each event asked for


def verify(batch_size: int = 2000, checkpoint_file: Path | None = None) -> VerifyResult:
    """Check the chain, then the chain against every checkpoint written outside the database."""
    from . import checkpoints

    log = checkpoints.read(checkpoint_file)
    walk = walk_chain({c.events for c in log.valid}, batch_size)
    problems = []
    if walk.broken_seq is not None:
        problems.append(
            f"audit event #{walk.broken_seq}: {walk.reason} "
            f"({walk.checked} events before it verified)"
        )
    problems += log.problems + checkpoints.compare(log.valid, walk)
    return VerifyResult(
        ok=not problems,
        checked=walk.checked,
        broken_seq=walk.broken_seq,
        reason=walk.reason or (problems[0] if problems else ""),
        problems=problems,
        checkpoints=len(log.valid),
    )


def walk_chain(wanted: set[int], batch_size: int = 2000) -> ChainWalk:
    """Walk every stored event in order; the first event whose link or content is wrong breaks
    the chain. The walk goes on to the end to learn the last event and the wanted hashes."""
    key = settings.GIGBRIDGE_AUDIT_KEY
    head = AuditHead.objects.filter(id=1).first()
    legacy_seq = head.legacy_seq if head else 0
    walk = ChainWalk()
    expected_prev, expected_seq = GENESIS, 1
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=walk.last_seq).order_by("seq")[:batch_size])
        if not batch:
            break
        for event in batch:
            walk.last_seq = event.seq
            if event.seq in wanted:
                walk.hashes[event.seq] = event.hash
            if walk.broken_seq is not None:
                continue
            problem = _problem(event, expected_seq, expected_prev, key, legacy_seq, head)
            if problem:
                walk.broken_seq, walk.reason = problem
            else:
                expected_prev, expected_seq = event.hash, event.seq + 1
                walk.checked += 1
    if walk.broken_seq is None and legacy_seq > walk.checked:
        walk.broken_seq = walk.checked + 1
        walk.reason = (
            f"the chain ends at event #{walk.checked} but {legacy_seq} events were sealed when "
            "hashes became keyed"
        )
    if walk.broken_seq is None and head and head.seq != walk.checked:
        walk.broken_seq = walk.checked + 1 if head.seq > walk.checked else head.seq
        walk.reason = f"the chain tip says #{head.seq} but #{walk.checked} is the last stored event"
    return walk


def _problem(event, expected_seq, expected_prev, key, legacy_seq, head):
    if event.seq != expected_seq:
        return expected_seq, f"event #{expected_seq} is missing (next stored is #{event.seq})"
    if event.prev_hash != expected_prev:
        return event.seq, "its prev_hash does not match the previous event's hash"
    if event.hash_version not in (UNKEYED, KEYED):
        return event.seq, f"its hash version {event.hash_version} is unknown"
    if event.hash_version == UNKEYED and event.seq > legacy_seq:
        # Only events sealed by migration 0002 may carry the unkeyed hash: anything later
        # with one was rewritten by someone without the audit key.
        return event.seq, "it carries an unkeyed hash but was written after hashes became keyed"
    if not same(compute_hash(event, key), event.hash):
        return event.seq, (
            "its content does not match its hash (the event was changed, "
            "or GIGBRIDGE_AUDIT_KEY is not the key it was written with)"
        )
    if event.seq == legacy_seq and not same(
        head.legacy_seal, legacy_seal(key, event.seq, event.hash)
    ):
        return event.seq, (
            "the seal over the events written before hashes became keyed does not match "
            "(they were rewritten)"
        )
    return None
