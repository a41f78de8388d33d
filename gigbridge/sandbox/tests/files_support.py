"""What the Planner, files and subscriptions tests share (no Django: product settings run them).

- ``conforms``: a body checked with ``conformance`` as the brief of the emulator says, i.e.
  not strict (strict mode also refuses properties Graph really sends on open types, such as
  ``email`` in an identity or ``group`` in a drive's owner).
- ``product_client``: the product's own ``GraphClient`` and ``TokenProvider`` pointed at the
  sandbox, with every body it sends or receives checked.
- ``Receiver``: a tiny threaded HTTP server on loopback standing in for Gigbridge's webhook.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from gigbridge.integrations.msgraph import conformance
from gigbridge.integrations.msgraph.auth import TokenProvider
from gigbridge.integrations.msgraph.client import GraphClient
from gigbridge.sandbox.client import requests_session
from gigbridge.sandbox.graph.testing import Graph, tools_auth

OWNER_UPN = "carol.owner@contoso.example"


def conforms(type_name: str, body: Any, *, collection: bool = False) -> None:
    if collection:
        found = conformance.validate_collection_response(type_name, body)
    else:
        found = conformance.validate(type_name, body, direction="response")
    assert found == [], found


def check_body(problems: list[str]):
    """An ``on_body`` hook for GraphClient that collects conformance problems."""

    def hook(type_name: str, body: Any, direction: str) -> None:
        if type_name.startswith("Collection("):
            found = conformance.validate_collection_response(type_name[11:-1], body)
        elif "/" in type_name:
            binding, action = type_name.split("/")
            if direction == "request":
                found = conformance.validate_action(binding, action, body)
            else:
                found = conformance.validate_action_result(binding, action, body)
        else:
            found = conformance.validate(type_name, body, direction=direction)
        problems.extend(f"{direction} {type_name}: {p}" for p in found)

    return hook


def token_provider(info: dict) -> TokenProvider:
    host = urlsplit(info["authority"]).netloc
    return TokenProvider(
        info["tenant_id"],
        info["client_id"],
        info["client_secret"],
        authority_host=host,
        verify=info["ca_cert"],
        http_client=requests_session(info["ca_cert"]),
    )


def product_client(info: dict, tokens: TokenProvider, problems: list[str], **options):
    options.setdefault("sleep", lambda seconds: None)
    options.setdefault("max_wait", 5)
    return GraphClient(
        info["graph_base_url"],
        tokens,
        verify=info["ca_cert"],
        limiter=None,
        on_body=check_body(problems),
        **options,
    )


def sandbox_url(info: dict, path: str) -> str:
    return info["graph_base_url"].removesuffix("/v1.0") + path


def user_id(graph: Graph, upn: str = OWNER_UPN) -> str:
    return graph.ok("GET", f"/users/{upn}")["id"]


def bind(user: str) -> str:
    return f"https://graph.microsoft.com/v1.0/users('{user}')"


def unified_group(graph: Graph, name: str = "Project") -> str:
    """A new Microsoft 365 group (what backs a team, its plan and its document library)."""
    nickname = f"p{uuid.uuid4().hex[:10]}"
    body = {
        "displayName": f"{name} {nickname}",
        "mailEnabled": True,
        "mailNickname": nickname,
        "securityEnabled": False,
        "groupTypes": ["Unified"],
        "owners@odata.bind": [bind(user_id(graph))],
    }
    return graph.ok("POST", "/groups", json=body, status=201)["id"]


def team(graph: Graph) -> str:
    """A new team (on a new unified group); returns its id."""
    body = {
        "template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
        "displayName": f"Project {uuid.uuid4().hex[:6]}",
        "members": [
            {
                "@odata.type": "#microsoft.graph.aadUserConversationMember",
                "roles": ["owner"],
                "user@odata.bind": bind(user_id(graph)),
            }
        ],
    }
    response = graph.call("POST", "/teams", json=body)
    assert response.status_code == 202, response.text
    return response.headers["content-location"].removeprefix("/teams('").removesuffix("')")


def guest(graph: Graph) -> dict:
    body = {
        "invitedUserEmailAddress": f"freelancer-{uuid.uuid4().hex[:8]}@fabrikam.example",
        "inviteRedirectUrl": "https://gigbridge.example/",
    }
    return graph.ok("POST", "/invitations", json=body, status=201)["invitedUser"]


def tools(http: httpx.Client, info: dict, method: str, path: str, **kwargs) -> dict:
    response = http.request(method, sandbox_url(info, path), auth=tools_auth(info), **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def advance_clock(http: httpx.Client, info: dict, seconds: float) -> dict:
    """Make time pass on the sandbox clock (each test starts it on the tests' start instant)."""
    return tools(http, info, "POST", "/_sandbox/clock", json={"advance_seconds": seconds})


def sandbox_now(http: httpx.Client, info: dict) -> dt.datetime:
    """The sandbox clock's now: what expirations are judged by (never this machine's date)."""
    now = tools(http, info, "GET", "/_sandbox/clock")["now"]
    return dt.datetime.fromisoformat(now)


# -- a webhook receiver -----------------------------------------------------------------------


class Receiver:
    """Answers Graph's validation requests and records notifications, on a free loopback port.

    ``echo``: "token" (correct), "wrong", "html" (right text, wrong content type) or "status"
    (answers ``validation_status``). ``statuses``: what the next notifications get (then 202).
    """

    def __init__(self) -> None:
        self.echo = "token"
        self.validation_status = 200
        self.statuses: list[int] = []
        self.tokens: list[str] = []
        self.received: queue.Queue = queue.Queue()
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                query = parse_qs(urlsplit(self.path).query)
                if "validationToken" in query:
                    token = query["validationToken"][0]
                    receiver.tokens.append(token)
                    answer = {"wrong": token[::-1], "html": token}.get(receiver.echo, token)
                    kind = "text/html" if receiver.echo == "html" else "text/plain"
                    status = receiver.validation_status if receiver.echo == "status" else 200
                    self._send(status, answer.encode(), f"{kind}; charset=utf-8")
                    return
                receiver.attempts += 1
                status = receiver.statuses.pop(0) if receiver.statuses else 202
                if 200 <= status < 300:
                    receiver.received.put(
                        {
                            "path": urlsplit(self.path).path,
                            "body": json.loads(raw),
                            "content_type": self.headers.get("Content-Type"),
                        }
                    )
                self._send(status, b"", "text/plain")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str = "/hooks/graph") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait(self, predicate=lambda note: True, timeout: float = 10.0) -> dict:
        """The next delivered collection that has a notification matching ``predicate``."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "no matching notification arrived"
            try:
                delivery = self.received.get(timeout=remaining)
            except queue.Empty:
                raise AssertionError("no matching notification arrived") from None
            if any(predicate(note) for note in delivery["body"]["value"]):
                return delivery

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
