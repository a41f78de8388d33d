"""UpworkClient against httpx.MockTransport: retries, Retry-After, no re-sent mutations, typed
errors, scopes, malformed answers, the tenant header and logs without secrets. No database."""

from __future__ import annotations

import email.utils
import json
import logging
from collections import deque

import httpx
import pytest

from gigbridge.integrations.upwork.client import (
    TENANT_HEADER,
    StaticTokens,
    UpworkClient,
    operation_of,
)
from gigbridge.integrations.upwork.errors import (
    AuthExpired,
    GraphQLErrors,
    MalformedResponse,
    MissingScope,
    PermanentUpworkError,
    RetryableUpworkError,
)
from gigbridge.integrations.upwork.operations import CONTRACT_DETAILS, CREATE_OFFER
from gigbridge.jobs.errors import PermanentError, RetryableError

URL = "https://api.upwork.test/graphql"
TOKEN = "oauth2v2_7f1c0ffee5ecre7acce55t0ken"
FRESH = "oauth2v2_fresh5ecre7acce55t0ken"
NOW = 1_800_000_000.0
SECRET_VARIABLE = "contract-secret-id-4711"

OK = {"data": {"contractDetails": {"id": "4711", "title": "Brand refresh"}}}


class Script:
    """Answers queued per test; records every request it saw."""

    def __init__(self, *answers):
        self.answers = deque(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.popleft() if self.answers else httpx.Response(200, json=OK)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests]


class RefreshingTokens(StaticTokens):
    """Counts refreshes; hands out FRESH after the first one."""

    def __init__(self, *, refresh_fails: bool = False):
        super().__init__(TOKEN)
        self.refreshes = 0
        self.refresh_fails = refresh_fails

    def refresh_after_rejection(self, rejected: str) -> str:
        self.refreshes += 1
        if self.refresh_fails:
            self.mark_needs_reconnect("invalid_grant")
            raise AuthExpired("token refresh refused: invalid_grant")
        self._token = FRESH
        return FRESH


@pytest.fixture
def sleeps():
    return []


def make(script, sleeps, *, tokens=None, organization_id=None, **kwargs) -> UpworkClient:
    return UpworkClient(
        URL,
        tokens or StaticTokens(TOKEN),
        verify=True,
        transport=httpx.MockTransport(script),
        sleep=sleeps.append,
        now=lambda: NOW,
        rng=lambda: 0.5,
        organization_id=organization_id,
        **kwargs,
    )


def run_contract(client):
    return client.execute(CONTRACT_DETAILS, {"id": SECRET_VARIABLE}, "ContractDetails")


def test_sends_one_graphql_post_with_bearer_and_operation_name(sleeps):
    script = Script()
    data = run_contract(make(script, sleeps))
    assert data == OK["data"]
    (request,) = script.requests
    assert request.method == "POST" and str(request.url) == URL
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TENANT_HEADER not in request.headers
    body = script.bodies[0]
    assert body["operationName"] == "ContractDetails"
    assert body["variables"] == {"id": SECRET_VARIABLE}
    assert body["query"] == CONTRACT_DETAILS


def test_tenant_header_when_bound_to_an_organization(sleeps):
    script = Script(httpx.Response(200, json=OK), httpx.Response(200, json=OK))
    client = make(script, sleeps, organization_id="org-42")
    run_contract(client)
    run_contract(client.for_organization("org-7"))
    assert script.requests[0].headers[TENANT_HEADER] == "org-42"
    assert script.requests[1].headers[TENANT_HEADER] == "org-7"


def test_query_retried_on_429_honouring_retry_after_seconds(sleeps):
    script = Script(
        httpx.Response(429, headers={"Retry-After": "7"}, json={"message": "slow down"}),
        httpx.Response(503, headers={"Retry-After": "2"}),
        httpx.Response(200, json=OK),
    )
    assert run_contract(make(script, sleeps)) == OK["data"]
    assert len(script.requests) == 3
    assert sleeps == [7.0, 2.0]


def test_retry_after_as_http_date(sleeps):
    when = email.utils.formatdate(NOW + 12, usegmt=True)
    script = Script(
        httpx.Response(429, headers={"Retry-After": when}), httpx.Response(200, json=OK)
    )
    run_contract(make(script, sleeps))
    assert sleeps == [12.0]


def test_backoff_without_retry_after_and_timeouts_retried(sleeps):
    script = Script(
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.Response(502),
        httpx.Response(200, json=OK),
    )
    assert run_contract(make(script, sleeps)) == OK["data"]
    # base 0.5 doubling, jitter fixed at 0.5: ceiling * 0.75
    assert sleeps == [0.375, 0.75, 1.5]


def test_gives_up_after_max_retries_with_a_retryable_error(sleeps):
    script = Script(*[httpx.Response(503) for _ in range(10)])
    with pytest.raises(RetryableUpworkError) as caught:
        run_contract(make(script, sleeps, max_retries=2))
    assert len(script.requests) == 3
    assert isinstance(caught.value, RetryableError)
    assert caught.value.status == 503 and caught.value.operation == "ContractDetails"


def test_never_sleeps_past_max_wait(sleeps):
    script = Script(httpx.Response(429, headers={"Retry-After": "120"}))
    with pytest.raises(RetryableUpworkError) as caught:
        run_contract(make(script, sleeps, max_wait=60))
    assert sleeps == [] and len(script.requests) == 1
    assert caught.value.retry_after == 120.0


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.Response(500),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
    ],
    ids=["429", "500", "timeout", "dropped"],
)
def test_mutation_is_never_resent(sleeps, failure):
    script = Script(failure, httpx.Response(200, json={"data": {"createOffer": None}}))
    with pytest.raises(RetryableUpworkError) as caught:
        make(script, sleeps).execute(CREATE_OFFER, {"offerInput": {}}, "CreateOffer")
    assert len(script.requests) == 1
    assert sleeps == []
    assert caught.value.operation == "CreateOffer"


def test_4xx_is_permanent(sleeps):
    script = Script(httpx.Response(400, json={"message": "Bad request"}))
    with pytest.raises(PermanentUpworkError) as caught:
        run_contract(make(script, sleeps))
    assert isinstance(caught.value, PermanentError)
    assert caught.value.status == 400 and "Bad request" in str(caught.value)
    assert len(script.requests) == 1


def test_graphql_errors_carry_messages_paths_and_partial_data(sleeps):
    body = {
        "data": {"contractDetails": None},
        "errors": [
            {
                "message": "Contract not found",
                "path": ["contractDetails"],
                "extensions": {"code": "NOT_FOUND"},
            },
            {"message": "second", "path": ["contractDetails", "offer", 0, "id"]},
        ],
    }
    script = Script(httpx.Response(200, json=body))
    with pytest.raises(GraphQLErrors) as caught:
        run_contract(make(script, sleeps))
    error = caught.value
    assert not isinstance(error, MissingScope)
    assert error.messages == ["Contract not found", "second"]
    assert error.paths == [("contractDetails",), ("contractDetails", "offer", 0, "id")]
    assert error.errors[0].code == "NOT_FOUND"
    assert error.data == {"contractDetails": None}
    assert isinstance(error, PermanentError)


def test_missing_scope_is_recognised_and_names_the_fields(sleeps):
    message = (
        "The client or authentication token doesn't have enough oauth2 permissions/scopes to "
        "access: [ContractDetails.id, ContractDetails.title]."
    )
    script = Script(
        httpx.Response(200, json={"data": None, "errors": [{"message": message, "path": []}]})
    )
    with pytest.raises(MissingScope) as caught:
        run_contract(make(script, sleeps))
    assert caught.value.scopes == ["ContractDetails.id", "ContractDetails.title"]


def test_missing_scope_on_a_403_too(sleeps):
    body = {"errors": [{"message": "Insufficient scope for this operation"}]}
    script = Script(httpx.Response(403, json=body))
    with pytest.raises(MissingScope):
        run_contract(make(script, sleeps))


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>gateway</html>", headers={"content-type": "text/html"}),
        httpx.Response(200, json={"data": None}),
        httpx.Response(200, json={"something": "else"}),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, content=b""),
    ],
    ids=["html", "null-data", "no-data", "array", "empty"],
)
def test_malformed_answers_are_typed_and_logged(sleeps, caplog, response):
    caplog.set_level(logging.INFO, logger="gigbridge.integrations.upwork")
    script = Script(response)
    with pytest.raises(MalformedResponse) as caught:
        run_contract(make(script, sleeps))
    assert caught.value.operation == "ContractDetails"
    assert isinstance(caught.value, RetryableError)
    assert any(
        "ContractDetails" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records
    )
    assert len(script.requests) == 1  # not retried in the client


def test_401_refreshes_once_then_succeeds(sleeps):
    tokens = RefreshingTokens()
    script = Script(httpx.Response(401), httpx.Response(200, json=OK))
    assert run_contract(make(script, sleeps, tokens=tokens)) == OK["data"]
    assert tokens.refreshes == 1
    assert [r.headers["Authorization"] for r in script.requests] == [
        f"Bearer {TOKEN}",
        f"Bearer {FRESH}",
    ]


def test_a_token_endpoint_outage_is_raised_not_retried(sleeps):
    """The token was already asked for under the connection's row lock: the outbox tries later."""
    calls = []

    class DownTokens(StaticTokens):
        def token(self) -> str:
            calls.append("token")
            raise RetryableUpworkError("token endpoint answered 503", operation="token", status=503)

    script = Script(httpx.Response(200, json=OK))
    with pytest.raises(RetryableUpworkError, match="503"):
        run_contract(make(script, sleeps, tokens=DownTokens(TOKEN)))
    assert calls == ["token"] and script.requests == [] and sleeps == []


def test_401_twice_marks_needs_reconnect(sleeps):
    tokens = RefreshingTokens()
    script = Script(httpx.Response(401), httpx.Response(401), httpx.Response(200, json=OK))
    with pytest.raises(AuthExpired):
        run_contract(make(script, sleeps, tokens=tokens))
    assert tokens.refreshes == 1 and len(script.requests) == 2
    assert tokens.reconnect_reason


def test_401_on_a_mutation_is_resent_once_after_refresh(sleeps):
    """A 401 means Upwork did not run the mutation: sending it again is safe."""
    tokens = RefreshingTokens()
    answer = {"data": {"createOffer": {"offer": {"id": "1"}}}}
    script = Script(httpx.Response(401), httpx.Response(200, json=answer))
    client = make(script, sleeps, tokens=tokens)
    assert client.execute(CREATE_OFFER, {"offerInput": {}}, "CreateOffer") == answer["data"]
    assert len(script.requests) == 2


def test_401_with_a_refused_refresh_raises_auth_expired(sleeps):
    tokens = RefreshingTokens(refresh_fails=True)
    script = Script(httpx.Response(401))
    with pytest.raises(AuthExpired) as caught:
        run_contract(make(script, sleeps, tokens=tokens))
    assert tokens.reconnect_reason == "invalid_grant"
    assert caught.value.retry_after and caught.value.retry_after >= 600


def test_each_attempt_is_logged_without_secrets(sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    script = Script(
        httpx.Response(503, headers={"X-Request-Id": "req-1"}),
        httpx.Response(200, json=OK, headers={"X-Request-Id": "req-2"}),
    )
    run_contract(make(script, sleeps, organization_id="org-42"))
    lines = [r.getMessage() for r in caplog.records if r.name == "gigbridge.integrations.upwork"]
    assert len(lines) == 2
    assert "ContractDetails 503" in lines[0] and "request-id=req-1" in lines[0]
    assert "ContractDetails 200" in lines[1] and "request-id=req-2" in lines[1]
    assert "tenant=org-42" in lines[1]
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert TOKEN not in everything
    assert SECRET_VARIABLE not in everything
    assert "Brand refresh" not in everything  # no response bodies


def test_error_messages_never_carry_tokens(sleeps):
    body = {"errors": [{"message": f"bad token Bearer {TOKEN} access_token={TOKEN}"}]}
    script = Script(httpx.Response(200, json=body))
    with pytest.raises(GraphQLErrors) as caught:
        run_contract(make(script, sleeps))
    assert TOKEN not in str(caught.value)


def test_on_error_hook_sees_the_final_error(sleeps):
    seen = []
    script = Script(httpx.Response(400))
    with pytest.raises(PermanentUpworkError):
        run_contract(make(script, sleeps, on_error=seen.append))
    assert len(seen) == 1 and seen[0].status == 400


def test_limiter_is_asked_once_per_attempt(sleeps):
    class Counting:
        calls = 0

        def acquire(self, cost=1):
            Counting.calls += 1

    script = Script(httpx.Response(503), httpx.Response(200, json=OK))
    run_contract(make(script, sleeps, limiter=Counting()))
    assert Counting.calls == 2


def test_errors_survive_pickling(sleeps):
    import pickle

    script = Script(httpx.Response(429, headers={"Retry-After": "3"}))
    with pytest.raises(RetryableUpworkError) as caught:
        run_contract(make(script, sleeps, max_retries=0))
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
    assert str(copy) == str(caught.value) and copy.retry_after == 3.0


def test_tls_verification_cannot_be_turned_off():
    with pytest.raises(ValueError, match="TLS"):
        UpworkClient(URL, StaticTokens(TOKEN), verify=False)
    with pytest.raises(ValueError, match="https"):
        UpworkClient("http://api.upwork.test/graphql", StaticTokens(TOKEN), verify=True)


def test_operation_of():
    assert operation_of(CONTRACT_DETAILS) == ("ContractDetails", "query")
    assert operation_of(CREATE_OFFER, "CreateOffer") == ("CreateOffer", "mutation")
    with pytest.raises(ValueError):
        operation_of("{ organization { id } }")
    with pytest.raises(ValueError):
        operation_of(CONTRACT_DETAILS, "Offer")
