"""One attempt through the shared layer: classified failures, one log line, no secrets."""

from __future__ import annotations

import logging

import httpx
import pytest

from gigbridge.integrations.outbound.classify import (
    Kind,
    TransportFailure,
    clean,
    kind_of_status,
    strip_query,
)
from gigbridge.integrations.outbound.http import Caller, new_client

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2lnbmF0dXJl"
REFRESH = "oauth2v2_refresh_5ecre7_bbbbbbbbbbb"


@pytest.mark.parametrize(
    "status, kind",
    [
        (429, Kind.THROTTLED),
        (408, Kind.TRANSIENT),
        (500, Kind.TRANSIENT),
        (502, Kind.TRANSIENT),
        (503, Kind.TRANSIENT),
        (504, Kind.TRANSIENT),
        (401, Kind.AUTH),
        (403, Kind.AUTH),
        (404, Kind.NOT_FOUND),
        (400, Kind.CLIENT),
        (409, Kind.CLIENT),
        (412, Kind.CLIENT),
        (501, Kind.CLIENT),  # not implemented: asking again will not implement it
    ],
)
def test_statuses_are_classified(status, kind):
    assert kind_of_status(status) is kind
    assert kind.retryable == (kind in (Kind.THROTTLED, Kind.TRANSIENT))


@pytest.mark.parametrize(
    "exc, kind, code",
    [
        (httpx.ReadTimeout("slow"), Kind.TRANSIENT, "timeout"),
        (httpx.ConnectTimeout("slow"), Kind.TRANSIENT, "timeout"),
        (httpx.ConnectError("refused"), Kind.TRANSIENT, "connectionError"),
        (httpx.RemoteProtocolError("dropped"), Kind.TRANSIENT, "connectionError"),
        (httpx.UnsupportedProtocol("ftp"), Kind.CLIENT, "requestError"),
        (httpx.LocalProtocolError("bad header"), Kind.CLIENT, "requestError"),
    ],
)
def test_transport_failures_are_classified(exc, kind, code):
    failure = TransportFailure.from_httpx(exc)
    assert (failure.kind, failure.code, failure.name) == (kind, code, type(exc).__name__)


def test_clean_cuts_credentials_newlines_and_length():
    text = clean(
        f"Bearer {TOKEN}\nraw {TOKEN} access_token={REFRESH} refresh_token: {REFRESH} "
        "client_secret=hunter2 https://up.test/x?tempauth=abc&y=1"
    )
    for secret in (TOKEN, REFRESH, "hunter2", "abc&", "\n"):
        assert secret not in text
    assert len(clean("x" * 1000)) == 300
    assert clean(None) == ""


def test_strip_query():
    assert strip_query("/users?$filter=mail eq 'a@b'") == "/users"
    assert strip_query("https://graph.test/v1.0/users?x=1#f") == "/v1.0/users"


def caller(handler, limiter=None) -> Caller:
    http = new_client(user_agent="test", verify=True, transport=httpx.MockTransport(handler))
    ticks = iter(range(0, 100, 1))
    return Caller(
        http,
        service="svc",
        logger=logging.getLogger("gigbridge.integrations.test"),
        limiter=limiter,
        timer=lambda: next(ticks) / 1000,  # each reading 1 ms later
    )


def test_one_log_line_per_attempt_and_no_secret_in_any_log(caplog):
    caplog.set_level(logging.DEBUG)

    def answer(request: httpx.Request) -> httpx.Response:
        # A server that echoes the credential back, in a header and the body.
        return httpx.Response(
            401,
            headers={"request-id": f"r-1 Bearer {TOKEN}"},
            json={"error": "invalid_token", "token": TOKEN},
        )

    response = caller(answer).attempt(
        "POST",
        "https://api.test/token?refresh_token=" + REFRESH,
        label="POST /token",
        log_fields=lambda r: [("request-id", r.headers.get("request-id")), ("attempt", 1)],
        headers={"Authorization": f"Bearer {TOKEN}"},
        data={"refresh_token": REFRESH, "client_secret": "hunter2"},
    )
    assert response.status_code == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "gigbridge.integrations.test"]
    assert lines == ["svc POST /token 401 1ms request-id=r-1 [redacted] attempt=1"]
    everything = "\n".join(r.getMessage() for r in caplog.records)  # httpx's loggers included
    for secret in (TOKEN, REFRESH, "hunter2", "Bearer"):
        assert secret not in everything


def test_a_failed_attempt_is_logged_then_raised_classified(caplog):
    caplog.set_level(logging.INFO)

    def answer(request):
        raise httpx.ReadTimeout("timed out reading https://api.test/x?secret=1", request=request)

    with pytest.raises(TransportFailure) as caught:
        caller(answer).attempt("GET", "https://api.test/x?secret=1", label="GET /x")
    assert caught.value.kind is Kind.TRANSIENT and caught.value.code == "timeout"
    assert "secret" not in str(caught.value)
    assert [r.getMessage() for r in caplog.records] == ["svc GET /x timeout 1ms"]


def test_each_attempt_takes_its_cost_from_the_limiter_at_most_the_burst():
    taken = []

    class Limiter:
        burst = 20

        def acquire(self, cost=1):
            taken.append(cost)

    call = caller(lambda request: httpx.Response(204), limiter=Limiter())
    call.attempt("GET", "https://api.test/a", label="GET /a")
    call.attempt("POST", "https://api.test/$batch", label="POST /$batch", cost=50)
    assert taken == [1, 20]


def test_tls_verification_cannot_be_turned_off():
    for verify in (False, None):
        with pytest.raises(ValueError, match="TLS"):
            new_client(user_agent="test", verify=verify)
    client = new_client(user_agent="test", verify=True)
    assert client.follow_redirects is False and client.headers["User-Agent"] == "test"
