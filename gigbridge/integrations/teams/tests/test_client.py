"""Outbound calls through the SDK's ConnectorClient against a fake Bot Connector on loopback:
paths, bodies, the bot's token, and failures typed for the outbox."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest

from gigbridge import clock
from gigbridge.integrations.teams import client
from gigbridge.integrations.teams.errors import (
    NotFound,
    PermanentTeamsError,
    RetryableTeamsError,
)
from gigbridge.integrations.teams.models import TeamsMember
from gigbridge.jobs.errors import PermanentError, RetryableError

from .conftest import ALICE_AAD, APP_ID, CHANNEL

TOKEN = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJib3QifQ.c2lnbmF0dXJl"


class FakeConnector:
    """A Bot Connector: records each request; answers from a script (else a default)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[tuple[int, dict | None, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                outer.requests.append(
                    {
                        "method": self.command,
                        "path": unquote(self.path),
                        "auth": self.headers.get("Authorization"),
                        "body": json.loads(raw) if raw else None,
                    }
                )
                status, body, headers = outer.script.pop(0) if outer.script else outer.default(self)
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if data:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/botframework/teams/"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def default(self, request) -> tuple[int, dict | None, dict]:
        if request.command == "POST" and request.path.endswith("/v3/conversations"):
            return 201, {"id": "a:new-personal"}, {}
        if request.command == "POST":
            return 201, {"id": f"act-{len(self.requests)}"}, {}
        if request.command == "PUT":
            return 200, {"id": "updated"}, {}
        return 200, None, {}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Tokens:
    def token(self) -> str:
        return TOKEN


@pytest.fixture
def connector(settings, db):
    fake = FakeConnector()
    settings.TEAMS = {
        **settings.TEAMS,
        "app_id": APP_ID,
        "app_password": "bot-secret",
        "tenant_id": "tenant-1",
        "service_url": fake.url,
    }
    client.reset()
    client._connector = client.BotConnector(
        APP_ID, Tokens(), tenant_id="tenant-1", sleep=lambda s: None
    )
    yield fake
    client.reset()
    fake.close()


def prefix(fake: FakeConnector) -> str:
    return "/botframework/teams/"


@pytest.fixture
def alice(db):
    return TeamsMember.objects.create(
        aad_object_id=ALICE_AAD,
        email="alice@contoso.example",
        resolved_at=clock.now(),
        updated_at=clock.now(),
    )


def test_first_message_to_a_person_creates_their_chat_then_reuses_it(connector, alice, caplog):
    card = {"type": "AdaptiveCard", "version": "1.4", "body": []}
    with caplog.at_level(logging.INFO):
        sent = client.send_to_person(
            "Alice@contoso.example", client.card_activity(card, "Approve?")
        )
    create, send = connector.requests
    assert (create["method"], create["path"]) == ("POST", "/botframework/teams/v3/conversations")
    assert create["auth"] == f"Bearer {TOKEN}"
    assert create["body"]["isGroup"] is False
    assert create["body"]["bot"] == {"id": f"28:{APP_ID}"}
    assert create["body"]["members"] == [{"id": ALICE_AAD}]
    assert create["body"]["tenantId"] == "tenant-1"
    assert create["body"]["channelData"] == {"tenant": {"id": "tenant-1"}}
    assert send["path"] == "/botframework/teams/v3/conversations/a:new-personal/activities"
    assert send["body"]["attachments"][0]["content"] == card
    assert send["body"]["summary"] == "Approve?"
    assert sent == client.Sent("a:new-personal", "act-2")
    alice.refresh_from_db()
    assert alice.conversation_id == "a:new-personal"
    # One line per call, no token, no body.
    lines = [r.getMessage() for r in caplog.records if r.name == "gigbridge.integrations.teams"]
    assert len(lines) == 2 and lines[0].startswith("teams POST v3/conversations -> 201")
    assert TOKEN not in caplog.text and "Approve?" not in caplog.text

    client.send_to_person("alice@contoso.example", {"type": "message", "text": "again"})
    assert connector.requests[-1]["path"].endswith("/v3/conversations/a:new-personal/activities")
    assert len(connector.requests) == 3


def test_a_gone_chat_is_made_again(connector, alice):
    TeamsMember.objects.filter(pk=alice.pk).update(
        conversation_id="a:old", service_url=connector.url
    )
    connector.script = [(404, {"error": {"code": "ConversationNotFound", "message": "gone"}}, {})]
    sent = client.send_to_person("alice@contoso.example", {"type": "message", "text": "hi"})
    assert [r["path"].rsplit("/v3/", 1)[1] for r in connector.requests] == [
        "conversations/a:old/activities",
        "conversations",
        "conversations/a:new-personal/activities",
    ]
    assert sent.conversation_id == "a:new-personal"


def test_start_thread_reply_update_delete(connector):
    thread = f"{CHANNEL};messageid=1700000000001"
    connector.script = [(201, {"id": thread, "activityId": "1700000000001"}, {})]
    sent = client.start_thread("group-1", CHANNEL, {"type": "message", "text": "Engagement 12"})
    assert sent == client.Sent(thread, "1700000000001")
    create = connector.requests[0]["body"]
    assert create["isGroup"] is True
    assert create["channelData"] == {"channel": {"id": CHANNEL}, "tenant": {"id": "tenant-1"}}
    assert create["activity"] == {"type": "message", "text": "Engagement 12"}

    replied = client.reply(thread, {"type": "message", "text": "a reply"})
    reply = connector.requests[1]
    assert reply["method"] == "POST"
    assert reply["path"].endswith(f"/v3/conversations/{thread}/activities/1700000000001")
    assert reply["body"]["text"] == "a reply"
    assert replied.conversation_id == thread and replied.activity_id == "act-2"

    client.update(thread, "act-2", {"type": "message", "text": "edited"})
    put = connector.requests[2]
    assert put["method"] == "PUT" and put["path"].endswith(f"/{thread}/activities/act-2")
    assert put["body"]["text"] == "edited" and put["body"]["id"] == "act-2"

    connector.script = [(200, None, {})]  # an empty answer to PUT is success too
    client.update(thread, "act-2", {"type": "message", "text": "edited again"})

    client.delete(thread, "act-2")
    assert connector.requests[-1]["method"] == "DELETE"
    assert all(r["auth"] == f"Bearer {TOKEN}" for r in connector.requests)


def test_429_is_retryable_with_retry_after(connector):
    connector.script = [
        (429, {"error": {"code": "Throttled", "message": "slow down"}}, {"Retry-After": "7"})
    ]
    with pytest.raises(RetryableTeamsError) as caught:
        client.reply("a:chat", {"type": "message", "text": "x"})
    error = caught.value
    assert isinstance(error, RetryableError)
    assert error.status == 429 and error.retry_after == 7.0
    assert "Throttled" in str(error) and len(connector.requests) == 1  # a POST is not re-sent


def test_idempotent_calls_are_retried_in_process(connector):
    connector.script = [(503, None, {"Retry-After": "1"})]
    client.delete("a:chat", "act-1")
    assert [r["method"] for r in connector.requests] == ["DELETE", "DELETE"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retryable(connector, status):
    connector.script = [(status, {"error": {"code": "ServiceError", "message": "oops"}}, {})]
    with pytest.raises(RetryableTeamsError) as caught:
        client.reply("a:chat", {"type": "message"})
    assert caught.value.status == status


@pytest.mark.parametrize(
    ("status", "cls"), [(400, PermanentTeamsError), (403, PermanentTeamsError), (404, NotFound)]
)
def test_client_errors_are_permanent(connector, status, cls):
    connector.script = [
        (status, {"error": {"code": "BadArgument", "message": "no Bearer abc.def"}}, {})
    ]
    with pytest.raises(cls) as caught:
        client.reply("a:chat", {"type": "message"})
    assert isinstance(caught.value, PermanentError)
    assert caught.value.status == status
    assert "abc.def" not in str(caught.value)  # anything token-like is cleaned out


def test_no_answer_is_retryable(connector, settings):
    connector.close()
    with pytest.raises(RetryableTeamsError) as caught:
        client.reply("a:chat", {"type": "message"})
    assert caught.value.code == "connectionError"


def test_plain_http_only_on_loopback():
    with pytest.raises(PermanentTeamsError):
        client.check_service_url("http://smba.example/teams/")
    assert client.check_service_url("https://smba.trafficmanager.net/teams") == (
        "https://smba.trafficmanager.net/teams/"
    )


def test_not_configured(settings, db):
    settings.TEAMS = {**settings.TEAMS, "app_id": None}
    client.reset()
    assert client.configured() is False
    with pytest.raises(PermanentTeamsError):
        client.reply("a:chat", {"type": "message"})


def test_an_unknown_person_is_permanent(connector, monkeypatch):
    from gigbridge.integrations.teams import directory

    monkeypatch.setattr(directory.graph, "configured", lambda: False)
    with pytest.raises(PermanentTeamsError) as caught:
        client.send_to_person("nobody@contoso.example", {"type": "message"})
    assert caught.value.code == "unknownUser"


def test_called_from_a_running_loop(connector):
    import asyncio

    bot = client.connector()

    async def inside():  # the SDK's loop cannot run inside this one: a helper thread runs it
        return bot.send(connector.url, "a:chat", {"type": "message", "text": "from async"})

    assert asyncio.run(inside()) == "act-1"


def _self_signed(tmp_path):
    """A loopback certificate (its own CA) for a TLS fake Connector."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)  # valid on any day the tests run
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * 50))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_each_call_closes_its_connection_when_it_returns(settings, db, tmp_path):
    """A server that closes like gunicorn's sync worker (answer with ``Connection: close``,
    half-close, then wait for the client's FIN before taking the next connection) is not held
    up: the call's socket is closed when the call returns, not when it is garbage-collected
    (it was: about one call in three then waited 2 s for a connection, bench/bridge)."""
    import socket
    import ssl

    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    client_closed = []  # one event per connection: the client's FIN arrived

    def serve():
        for _ in range(3):
            raw, _ = listener.accept()
            closed = threading.Event()
            client_closed.append(closed)
            with context.wrap_socket(raw, server_side=True) as tls:
                tls.settimeout(10)
                request = b""
                while b"\r\n\r\n" not in request:
                    request += tls.recv(65536)
                head, _, body = request.partition(b"\r\n\r\n")
                length = int(
                    next(
                        (line.split(b":")[1] for line in head.split(b"\r\n")
                         if line.lower().startswith(b"content-length:")),
                        b"0",
                    )
                )  # fmt: skip
                while len(body) < length:
                    body += tls.recv(65536)
                answer = b'{"id": "act-1"}'
                tls.sendall(
                    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                    + b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(answer)
                    + answer
                )
                try:  # the client is done with the answer: its TLS close_notify (or FIN)
                    tls.recv(4096)
                except (OSError, ssl.SSLError):
                    pass
                tls.shutdown(socket.SHUT_WR)  # then as gunicorn's close_graceful
                try:
                    while tls.recv(4096):
                        pass
                    closed.set()
                except (OSError, ssl.SSLError):
                    closed.set()  # a reset or a TLS close_notify then EOF: closed too

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    settings.TEAMS = {**settings.TEAMS, "app_id": APP_ID, "app_password": "bot-secret"}
    bot = client.BotConnector(APP_ID, Tokens(), ca_bundle=str(cert_file), sleep=lambda s: None)
    import gc

    gc.disable()  # what closes the socket must be the call, not the collector
    try:
        for _ in range(3):
            url = f"https://127.0.0.1:{port}/botframework/teams/"
            assert bot.send(url, "a:chat", {"type": "message", "text": "hi"}) == "act-1"
            # Bounded wait for another thread's socket event, not a sleep: met at once when the
            # call closed its connection; 10 s (the server's timeout) when it did not.
            assert client_closed[-1].wait(timeout=5), "the call left its connection open"
    finally:
        gc.enable()
        listener.close()
