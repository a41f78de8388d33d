"""Encryption at rest for OAuth tokens (Fernet: AES-128-CBC + HMAC-SHA256, from ``cryptography``).

The key is derived (HKDF-SHA256) from ``GIGBRIDGE_TOKEN_KEY`` when it is set, else from Django's
``SECRET_KEY``, so a database dump alone never yields a usable Upwork token. Several comma-separated
values in ``GIGBRIDGE_TOKEN_KEY`` rotate keys: the first encrypts, all of them (and the
``SECRET_KEY``-derived key, for rows written before a token key was set) decrypt.

Changing both keys makes stored tokens unreadable: ``decrypt`` raises ``TokenKeyError`` and the
connection asks an admin to connect Upwork again (no crash, no silent stop).
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_SALT = b"gigbridge token encryption"
_INFO = b"upwork oauth tokens v1"


class TokenKeyError(Exception):
    """A stored token cannot be decrypted with the configured keys."""


def _derive(secret: str) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(
        secret.encode("utf-8")
    )
    return base64.urlsafe_b64encode(key)


@functools.lru_cache(maxsize=8)
def _fernet(token_key: str, secret_key: str) -> MultiFernet:
    secrets = [part.strip() for part in token_key.split(",") if part.strip()]
    secrets.append(secret_key)
    return MultiFernet([Fernet(_derive(secret)) for secret in secrets])


def fernet() -> MultiFernet:
    upwork = getattr(settings, "UPWORK", None) or {}
    return _fernet(upwork.get("token_key") or "", settings.SECRET_KEY)


def encrypt(value: str) -> str:
    """The Fernet token (ASCII) for ``value``; '' stays ''."""
    if not value:
        return ""
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    try:
        return fernet().decrypt(stored.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        raise TokenKeyError(
            "stored Upwork tokens cannot be decrypted (GIGBRIDGE_TOKEN_KEY or SECRET_KEY changed)"
        ) from None
