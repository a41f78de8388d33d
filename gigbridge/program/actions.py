"""Activating and reading the program policy."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from django.db import transaction

from gigbridge import clock
from gigbridge.audit.actions import record

from .models import CostCenter, PolicyVersion
from .policy import Policy, parse_policy, read_policy_file

# Parsed policies by the hash of their text: a version number can be reused (a database
# restored or recreated), a text's hash always means the same policy.
_cache: dict[str, Policy] = {}
_cache_lock = threading.Lock()


class NoPolicyError(RuntimeError):
    pass


def activate_policy(
    text: str, filename: str, *, user=None, actor: str | None = None
) -> tuple[PolicyVersion, bool]:
    """Validate and store ``text`` as the policy in force. Unchanged text makes no new version.

    Raises PolicyError (with every problem and its position) when the text is invalid.
    """
    policy = parse_policy(text, filename)
    digest = hashlib.sha256(text.encode()).hexdigest()
    with transaction.atomic():
        latest = PolicyVersion.objects.select_for_update().order_by("-number").first()
        if latest and latest.sha256 == digest:
            return latest, False
        version = PolicyVersion.objects.create(
            number=(latest.number + 1) if latest else 1,
            sha256=digest,
            filename=filename,
            source_text=text,
            program_name=policy.program.name,
            activated_at=clock.now(),
            activated_by=actor or (user.get_username() if user else "system"),
        )
        _sync_cost_centers(policy)
        record(
            user=user,
            actor=actor,
            action="policy.activated",
            obj=version,
            before={"version": latest.number} if latest else None,
            after={
                "version": version.number,
                "sha256": digest,
                "filename": filename,
                "program": policy.program.name,
            },
            policy_version=version.number,
        )
        return version, True


def activate_policy_file(path: Path, *, actor: str = "system") -> tuple[PolicyVersion, bool]:
    # The same reading as `gigbridge policy check`: size cap, and the place of a non-UTF-8 byte.
    return activate_policy(read_policy_file(path), str(path), actor=actor)


def _sync_cost_centers(policy: Policy) -> None:
    codes = set()
    for cc in policy.cost_centers:
        codes.add(cc.code)
        CostCenter.objects.update_or_create(
            code=cc.code,
            defaults={
                "name": cc.name,
                "annual_budget": cc.annual_budget,
                "owner_email": cc.owner,
                "active": True,
            },
        )
    CostCenter.objects.exclude(code__in=codes).update(active=False)


def current() -> tuple[PolicyVersion, Policy]:
    """The policy in force and its stored version. Parsed once per version per process."""
    version = PolicyVersion.objects.order_by("-number").first()
    if version is None:
        raise NoPolicyError(
            "no program policy has been activated; run `gigbridge init` "
            "or set GIGBRIDGE_POLICY_FILE"
        )
    return version, policy_of(version)


def policy_of(version: PolicyVersion) -> Policy:
    with _cache_lock:
        policy = _cache.get(version.sha256)
    if policy is None:
        policy = parse_policy(version.source_text, version.filename)
        with _cache_lock:
            _cache[version.sha256] = policy
    return policy
