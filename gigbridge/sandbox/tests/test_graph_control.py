"""Graph emulator dials: throttling per app, injected faults and latency, the control endpoint."""

from __future__ import annotations

import time

import pytest

from gigbridge.sandbox.graph import dials as dial_rules
from gigbridge.sandbox.graph.testing import (
    RESET,
    Graph,
    assert_graph_error,
    control_url,
    set_dials,
)

from .helpers import sign_in


@pytest.fixture
def dials(http, info):
    yield lambda **changes: set_dials(http, info, **changes)
    set_dials(http, info, **RESET)


def test_control_needs_the_tools_credentials(http, info):
    url = control_url(info)

    assert http.get(url).status_code == 401
    assert http.post(url, json={"faults": {"error_rate": 1}}, auth=("x", "y")).status_code == 401
    assert http.get(url, auth=(info["client_id"], info["client_secret"])).json() == {
        "throttle": {"rate": None, "burst": None},
        "faults": {"error_rate": 0.0, "latency_ms": 0, "seed": None, "retry_after": 1},
        "teams": {"provisioning_seconds": 0.0},
        "invitations": {"blocked_domains": ["blocked.example"]},
        "files": {"download_bytes_per_second": None, "lose_notifications": 0},
    }


@pytest.mark.parametrize(
    "body",
    [
        {"throttle": {"rate": -1}},
        {"faults": {"error_rate": 1.5}},
        {"faults": {"latency": 5}},
        {"weather": {}},
        [],
    ],
)
def test_invalid_dials_are_400(http, info, body):
    response = http.post(
        control_url(info), json=body, auth=(info["client_id"], info["client_secret"])
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_settings"


def test_tight_throttle_answers_429_with_retry_after(graph, dials, http, info):
    dials(throttle={"rate": 0.2, "burst": 3})

    statuses = [graph.call("GET", "/users?$top=1").status_code for _ in range(3)]
    throttled = graph.call("GET", "/users?$top=1")

    assert statuses == [200, 200, 200]
    assert_graph_error(throttled, 429, "TooManyRequests")
    assert 1 <= int(throttled.headers["retry-after"]) <= 5
    # Per app: another app's calls are not held back by this one's bucket.
    rita = Graph(http, info, sign_in(http, info, "rita@contoso.example")["access_token"])
    assert rita.call("GET", "/me").status_code == 200


def test_throttling_applies_to_each_request_in_a_batch(graph, dials):
    dials(throttle={"rate": 0.2, "burst": 3})
    requests = [{"id": str(i), "method": "GET", "url": "/users?$top=1"} for i in range(5)]

    body = graph.ok("POST", "/$batch", json={"requests": requests})

    statuses = [r["status"] for r in body["responses"]]
    assert statuses == [200, 200, 200, 429, 429]
    for response in body["responses"][3:]:
        assert int(response["headers"]["Retry-After"]) >= 1
        assert_graph_error(response, 429, "TooManyRequests")


def test_faults_come_at_the_seeded_rate(graph, dials):
    dials(faults={"error_rate": 0.3, "seed": 7, "retry_after": 2})
    expected = [503 if dial_rules.draw_fails(7, n, 0.3) else 200 for n in range(40)]

    responses = [graph.call("GET", "/users?$top=1") for _ in range(40)]

    assert [r.status_code for r in responses] == expected
    assert 6 <= expected.count(503) <= 18  # the seed gives a plausible share, not a fluke
    failed = next(r for r in responses if r.status_code == 503)
    assert_graph_error(failed, 503, "serviceNotAvailable")
    assert failed.headers["retry-after"] == "2"
    # Setting the faults again replays the same sequence.
    dials(faults={"error_rate": 0.3, "seed": 7})
    again = [graph.call("GET", "/users?$top=1").status_code for _ in range(10)]
    assert again == expected[:10]


def test_added_latency(graph, dials):
    dials(faults={"latency_ms": 300})

    started = time.monotonic()
    response = graph.call("GET", "/users?$top=1")

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_blocked_domains_are_a_dial(graph, dials):
    dials(invitations={"blocked_domains": ["fabrikam.example"]})
    body = {"invitedUserEmailAddress": "a@fabrikam.example", "inviteRedirectUrl": "https://x.io"}

    assert_graph_error(graph.call("POST", "/invitations", json=body), 400, "BadRequest")


def test_dials_survive_restarts_and_env_overrides_at_start(sandbox, info, http, monkeypatch):
    set_dials(http, info, faults={"latency_ms": 5})
    try:
        sandbox.restart()
        assert set_dials(http, info)["faults"]["latency_ms"] == 5  # stored

        environment = sandbox.env()
        monkeypatch.setattr(
            sandbox,
            "env",
            lambda: {
                **environment,
                "GIGBRIDGE_SANDBOX_GRAPH_THROTTLE_RATE": "50",
                "GIGBRIDGE_SANDBOX_GRAPH_ERROR_RATE": "0.25",
                "GIGBRIDGE_SANDBOX_GRAPH_FAULT_SEED": "3",
            },
        )
        sandbox.restart()
        now = set_dials(http, info)
        assert now["throttle"] == {"rate": 50.0, "burst": 50}
        assert now["faults"] == {"error_rate": 0.25, "latency_ms": 5, "seed": 3, "retry_after": 1}
    finally:
        set_dials(http, info, **RESET)


def test_a_bad_dial_in_the_environment_stops_the_start(sandbox):
    import subprocess

    env = {**sandbox.env(), "GIGBRIDGE_SANDBOX_GRAPH_ERROR_RATE": "lots"}
    result = subprocess.run(sandbox.command("info"), env=env, capture_output=True, text=True)

    assert result.returncode == 2
    assert "GIGBRIDGE_SANDBOX_GRAPH_ERROR_RATE='lots' is not a number" in result.stderr


def test_dial_rules_without_a_server():
    merged = dial_rules.merge(dial_rules.DEFAULTS, {"throttle": {"rate": 2.5}})
    assert merged["throttle"] == {"rate": 2.5, "burst": 3}
    assert dial_rules.merge(merged, {"throttle": None})["throttle"] == {"rate": None, "burst": None}
    env = {"GIGBRIDGE_SANDBOX_GRAPH_LATENCY_MS": "20",
           "GIGBRIDGE_SANDBOX_GRAPH_BLOCKED_DOMAINS": "a.example, B.example"}  # fmt: skip
    assert dial_rules.from_env(env.get) == {
        "faults": {"latency_ms": 20},
        "invitations": {"blocked_domains": ["a.example", "B.example"]},
    }
    assert dial_rules.retry_after(0.0, 0.2) == 5
    draws = [dial_rules.draw_fails(1, n, 0.5) for n in range(200)]
    assert draws == [dial_rules.draw_fails(1, n, 0.5) for n in range(200)]
    assert 70 < sum(draws) < 130
