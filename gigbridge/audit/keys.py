"""The audit key: what makes the chain's hashes and the checkpoints impossible to recompute for
someone who only has the database.

No Django here: the settings module reads the key while it loads.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from gigbridge import config
from gigbridge.config import read_or_create

KEY_FILE_NAME = "audit_key"


def audit_key(data: Path) -> str:
    """GIGBRIDGE_AUDIT_KEY (or ``_FILE``), or (embedded default only) a key generated once in
    the data folder, 0600. The value is never logged or shown."""
    configured = config.env("GIGBRIDGE_AUDIT_KEY")
    if configured:
        if len(configured) < 32:
            raise config.ConfigError("GIGBRIDGE_AUDIT_KEY must be at least 32 characters long")
        return configured
    key_file = data / KEY_FILE_NAME
    # Written whole and linked into place: two processes starting together agree on one key,
    # and neither reads a half-written file.
    value = read_or_create(key_file, lambda: secrets.token_urlsafe(48))
    if len(value) < 32:
        # Emptied or cut by hand: refuse rather than sign with a weak key. A lost key cannot be
        # recreated, so the operator restores it (events written with it verify only with it).
        raise config.ConfigError(
            f"the audit key in {key_file} is shorter than 32 characters: restore it from the "
            "backup, or set GIGBRIDGE_AUDIT_KEY_FILE"
        )
    return value


def mac(key: str, purpose: str, message: str) -> str:
    """HMAC-SHA256 of ``purpose|message``: the purpose keeps an event's hash from ever being
    valid as a checkpoint's signature, or the reverse."""
    return hmac.new(key.encode(), f"{purpose}|{message}".encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def legacy_seal(key: str, last_seq: int, last_hash: str) -> str:
    """The seal over the events written before hashes were keyed (see migration 0002)."""
    return mac(key, "audit-legacy", f"{last_seq}|{last_hash}")
