"""Writing and verifying the audit chain.

Domain actions call ``record`` inside their own transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from gigbridge import clock

from .models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _canonical(value: Any) -> Any:
    """JSON-safe, stable form of before/after payloads (dates, decimals, UUIDs as strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True))


def compute_hash(event: AuditEvent) -> str:
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
    return hashlib.sha256(encoded.encode()).hexdigest()


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


def verify(batch_size: int = 2000) -> VerifyResult:
    """Walk the whole chain in order; report the first event whose link or content is wrong."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.seq != expected_seq:
                return VerifyResult(
                    False,
                    checked,
                    expected_seq,
                    f"event #{expected_seq} is missing (next stored is #{event.seq})",
                )
            if event.prev_hash != expected_prev:
                return VerifyResult(
                    False,
                    checked,
                    event.seq,
                    "its prev_hash does not match the previous event's hash",
                )
            if compute_hash(event) != event.hash:
                return VerifyResult(
                    False,
                    checked,
                    event.seq,
                    "its content does not match its hash (the event was changed)",
                )
            expected_prev, expected_seq = event.hash, event.seq + 1
            checked += 1
        last_seq = batch[-1].seq
    head = AuditHead.objects.filter(id=1).first()
    if head and head.seq != checked:
        return VerifyResult(
            False,
            checked,
            checked + 1 if head.seq > checked else head.seq,
            f"the chain tip says #{head.seq} but #{checked} is the last stored event",
        )
    return VerifyResult(True, checked)
