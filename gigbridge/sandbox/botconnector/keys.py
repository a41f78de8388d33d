"""The Bot Framework's signing key: the tokens the Connector sends with each activity.

Like ``login.botframework.com``: OpenID metadata at ``/botframework/v1/.well-known/
openidconfiguration`` whose ``jwks_uri`` lists the key (with its ``kid`` and ``endorsements``).
The private key lives in a 0600 PEM file in the sandbox folder, made on first use.
"""

from __future__ import annotations

import functools
import secrets
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from jwt.algorithms import RSAAlgorithm

from .. import tokens
from ..paths import sandbox_dir, write_private
from .defaults import BOTFRAMEWORK, CHANNEL_ID, DELIVERY_TOKEN_LIFETIME, SIGNING_KEY_FILE


def service_url() -> str:
    return f"{settings.SANDBOX_URL}/botframework/teams/"


def openid_metadata_url() -> str:
    return f"{settings.SANDBOX_URL}/botframework/v1/.well-known/openidconfiguration"


def jwks_url() -> str:
    return f"{settings.SANDBOX_URL}/botframework/v1/.well-known/keys"


def _pem() -> bytes:
    path = sandbox_dir() / SIGNING_KEY_FILE
    if not path.exists():
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Two workers starting together: the later replace wins, both then read that one.
        if not path.exists():
            write_private(path, pem)
    return path.read_bytes()


def ensure_signing_key() -> None:
    _key(_pem())


@functools.lru_cache(maxsize=4)
def _key(pem: bytes):
    private = serialization.load_pem_private_key(pem, password=None)
    return private, tokens._thumbprint(private.public_key())


def sign(claims: dict, lifetime: int = DELIVERY_TOKEN_LIFETIME) -> str:
    """A JWT as the Bot Connector sends to a bot: iss api.botframework.com, RS256, kid."""
    private, kid = _key(_pem())
    now = int(time.time())
    body = {"iss": BOTFRAMEWORK, "iat": now, "nbf": now, "exp": now + lifetime}
    body["jti"] = secrets.token_hex(16)
    body.update(claims)
    return jwt.encode(body, private, "RS256", headers={"kid": kid})


def delivery_token(bot_app_id: str) -> str:
    url = service_url()
    # The spec's claim name and the lower-case one the real Connector's tokens carry.
    return sign({"aud": bot_app_id, "serviceUrl": url, "serviceurl": url})


def jwks() -> dict:
    private, kid = _key(_pem())
    jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return {
        "keys": [
            {**jwk, "use": "sig", "kid": kid, "endorsements": [CHANNEL_ID]},
        ]
    }


@require_GET
def openid_configuration(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "issuer": BOTFRAMEWORK,
            "authorization_endpoint": "https://invalid.botframework.com",
            "jwks_uri": jwks_url(),
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }
    )


@require_GET
def keys(request: HttpRequest) -> JsonResponse:
    return JsonResponse(jwks())
