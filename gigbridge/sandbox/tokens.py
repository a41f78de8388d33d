"""Signing and checking the sandbox's JWTs (RS256 with a ``kid``, like Entra ID's)."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from jwt.algorithms import RSAAlgorithm

from .models import SigningKey, Tenant

LIFETIME = 3599  # seconds; what Entra ID answers as expires_in for a default token


def issuer(tenant: Tenant) -> str:
    return f"{settings.SANDBOX_URL}/{tenant.id}/v2.0"


def ensure_signing_key() -> SigningKey:
    """The current signing key, made on first use (the runner calls this before serving)."""
    key = SigningKey.objects.first()
    if key:
        return key
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return SigningKey.objects.create(kid=_thumbprint(private.public_key()), private_key_pem=pem)


def sign(claims: dict, lifetime: int = LIFETIME) -> str:
    key = ensure_signing_key()
    now = int(time.time())
    body = {"iat": now, "nbf": now, "exp": now + lifetime, "uti": secrets.token_urlsafe(16)}
    body.update(claims)
    return jwt.encode(
        body, _private(key.kid, key.private_key_pem), "RS256", headers={"kid": key.kid}
    )


def verify(token: str, tenant: Tenant, audience: str) -> dict:
    """Claims of a token this sandbox issued for ``audience``; raises jwt.InvalidTokenError."""
    kid = jwt.get_unverified_header(token).get("kid")
    key = SigningKey.objects.filter(kid=kid).first()
    if key is None:
        raise jwt.InvalidTokenError("unknown signing key")
    public = _private(key.kid, key.private_key_pem).public_key()
    return jwt.decode(token, public, ["RS256"], audience=audience, issuer=issuer(tenant))


def jwks(tenant: Tenant) -> dict:
    keys = []
    for key in SigningKey.objects.all():
        jwk = RSAAlgorithm.to_jwk(_private(key.kid, key.private_key_pem).public_key(), as_dict=True)
        keys.append({**jwk, "use": "sig", "kid": key.kid, "issuer": issuer(tenant)})
    return {"keys": keys}


def client_info(user_id, tenant_id) -> str:
    """What Entra returns for ``client_info=1``: base64url JSON of user and tenant ids."""
    raw = json.dumps({"uid": str(user_id), "utid": str(tenant_id)}).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def pairwise_sub(user_id, client_id) -> str:
    # Entra's ``sub`` differs per app; keeping that makes code that mistakes it for the user's
    # identity (instead of ``oid``) fail here rather than in production.
    raw = hashlib.sha256(f"{user_id}:{client_id}".encode()).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@functools.lru_cache(maxsize=8)
def _private(kid: str, pem: str):
    # Keyed on kid and PEM: parsing an RSA key costs more than the rest of a token request.
    return serialization.load_pem_private_key(pem.encode(), password=None)


def _thumbprint(public_key) -> str:
    """RFC 7638 JWK thumbprint: a kid derived from the key itself."""
    jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
