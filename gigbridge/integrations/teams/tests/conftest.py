"""A bot configured against a fake Bot Connector: its own RSA signing key and JWKS, tokens minted
here, card and message handlers registered per test."""

from __future__ import annotations

import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from jwt.algorithms import RSAAlgorithm

from gigbridge.integrations.teams import client, inbound, validation

APP_ID = "00000000-0000-0000-0000-00000000b07a"
SERVICE_URL = "https://127.0.0.1:8443/botframework/teams/"
METADATA = "https://127.0.0.1:8443/botframework/v1/.well-known/openidconfiguration"
JWKS = "https://127.0.0.1:8443/botframework/v1/.well-known/keys"
KID = "connector-key-1"
TEAM_THREAD = "19:team-general@thread.tacv2"
CHANNEL = "19:projects@thread.tacv2"
GROUP_ID = "0b5a5e1e-0000-4000-8000-00000000g001"
ALICE_AAD = "11111111-1111-4111-8111-111111111111"

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key, kid: str, **extra) -> dict:
    body = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {**body, "kid": kid, "use": "sig", "alg": "RS256", **extra}


class FakeKeyServer:
    """What the OpenID metadata and the JWKS say; counts fetches."""

    def __init__(self):
        self.keys = [jwk(_KEY, KID, endorsements=["msteams"])]
        self.fetches = 0

    def __call__(self, url: str) -> dict:
        self.fetches += 1
        if url == METADATA:
            return {"issuer": validation.ISSUER, "jwks_uri": JWKS}
        if url == JWKS:
            return {"keys": list(self.keys)}
        raise validation.KeysUnavailable("unknown url")


def token(
    *,
    key=_KEY,
    kid: str | None = KID,
    alg: str = "RS256",
    lifetime: int = 300,
    issued: float | None = None,
    **claims,
) -> str:
    now = issued if issued is not None else time.time()
    body = {
        "iss": validation.ISSUER,
        "aud": APP_ID,
        "serviceUrl": SERVICE_URL,
        "nbf": int(now),
        "iat": int(now),
        "exp": int(now) + lifetime,
        **claims,
    }
    body = {k: v for k, v in body.items() if v is not None}
    headers = {"kid": kid} if kid else {}
    if alg == "none":
        return jwt.encode(body, None, algorithm="none", headers=headers)
    if alg == "HS256":
        return jwt.encode(
            body, "shared-secret-long-enough-0123456789", algorithm="HS256", headers=headers
        )
    return jwt.encode(body, key, algorithm=alg, headers=headers)


def activity(kind: str = "message", *, conversation_type: str = "channel", **fields) -> dict:
    root = fields.pop("root", "1700000000001")
    body = {
        "type": kind,
        "id": fields.pop("id", "1700000000002"),
        "timestamp": "2026-03-02T09:15:00.000Z",
        "channelId": "msteams",
        "serviceUrl": SERVICE_URL,
        "from": {"id": "29:alice", "name": "Alice Adams", "aadObjectId": ALICE_AAD},
        "recipient": {"id": f"28:{APP_ID}", "name": "Gigbridge"},
        "conversation": {
            "id": f"{CHANNEL};messageid={root}"
            if conversation_type == "channel"
            else "a:personal-1",
            "conversationType": conversation_type,
            "tenantId": "tenant-1",
            "isGroup": conversation_type == "channel",
        },
        "channelData": {
            "tenant": {"id": "tenant-1"},
            **(
                {"team": {"id": TEAM_THREAD, "aadGroupId": GROUP_ID}, "channel": {"id": CHANNEL}}
                if conversation_type == "channel"
                else {}
            ),
        },
    }
    body.update(fields)
    return body


def card_invoke(verb: str = "approval.approve", data: dict | None = None, **fields) -> dict:
    return activity(
        "invoke",
        conversation_type="personal",
        name="adaptiveCard/action",
        replyToId="card-msg-1",
        value={
            "action": {"type": "Action.Execute", "verb": verb, "data": data or {"step": 7}},
            "trigger": "manual",
        },
        **{"id": f"f:{uuid.uuid4()}", **fields},
    )


def post(body, auth: str | None = "default", **extra):
    data = body if isinstance(body, bytes) else json.dumps(body)
    headers = {}
    if auth == "default":
        auth = f"Bearer {token()}"
    if auth:
        headers["HTTP_AUTHORIZATION"] = auth
    return Client().post(
        "/hooks/teams", data=data, content_type="application/json", **headers, **extra
    )


@pytest.fixture
def keys(monkeypatch):
    server = FakeKeyServer()
    monkeypatch.setattr(validation, "_keys", validation.KeySet(METADATA, fetch=server))
    return server


@pytest.fixture
def bot(settings, keys, db):
    settings.TEAMS = {
        **settings.TEAMS,
        "app_id": APP_ID,
        "app_password": "bot-secret-not-logged",
        "tenant_id": "tenant-1",
        "openid_metadata": METADATA,
        "service_url": SERVICE_URL,
    }
    client.reset()
    yield keys
    client.reset()


@pytest.fixture
def handlers(monkeypatch):
    """Empty registries for the test (domain apps' real handlers are put back after)."""
    monkeypatch.setattr(inbound, "_card_handlers", {})
    monkeypatch.setattr(inbound, "_message_handlers", [])
    return inbound


@pytest.fixture
def no_graph(settings):
    """No tenant connected: senders have no resolved address (email None)."""
    settings.GRAPH = {**settings.GRAPH, "tenant_id": None, "client_id": None, "client_secret": None}
