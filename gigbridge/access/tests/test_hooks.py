"""``POST /hooks/graph`` under abuse: anyone can post, so a refusal costs one bounded log line,
bodies are bounded in bytes and in notifications, and every refusal is problem+json."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from gigbridge import clock
from gigbridge.access import hooks
from gigbridge.access.models import GraphSubscription
from gigbridge.jobs.models import InboxEvent

SECRET = "s3cret-state-0123456789"


@pytest.fixture
def subscription(db):
    return GraphSubscription.objects.create(
        resource="/teams/t-1/members",
        subscription_id="sub-1",
        client_state=SECRET,
        expires_at=clock.now(),
        created_at=clock.now(),
    )


def note(i: int, **fields) -> dict:
    return {
        "id": f"n-{i}",
        "subscriptionId": "sub-1",
        "clientState": SECRET,
        "changeType": "created",
        "resource": f"teams('t-1')/members('m-{i}')",
        **fields,
    }


def post(body: bytes | dict, **extra):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return Client().post("/hooks/graph", data=data, content_type="application/json", **extra)


def log_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.INFO]


def test_a_batch_of_forgeries_costs_one_log_line_without_the_body(subscription, caplog):
    # The audit's repro: ~976 KB of forged notifications gave 8,012 log lines.
    forged = [
        note(i, subscriptionId=f"forged-sub-{i}", clientState=f"guess-{i}") for i in range(500)
    ]
    forged += [note(500 + i, clientState=f"guess-{i}") for i in range(500)]
    with caplog.at_level(logging.INFO):
        response = post({"value": forged})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    [line] = log_lines(caplog)  # also no second line from django.request
    message = line.getMessage()
    assert "500 for an unknown subscription, 500 with a wrong clientState" in message
    assert "forged-sub" not in message and "guess-" not in message and SECRET not in message
    assert len(message) < 300
    assert not InboxEvent.objects.exists()


def test_a_mixed_batch_keeps_the_valid_notifications_and_logs_the_rest_once(subscription, caplog):
    body = {"value": [note(1), note(2, clientState="guess"), note(3, subscriptionId="other")]}
    with caplog.at_level(logging.INFO):
        assert post(body).status_code == 202
    assert [e.payload["id"] for e in InboxEvent.objects.all()] == ["n-1"]
    [line] = log_lines(caplog)
    assert "2 of 3 notifications" in line.getMessage()


def test_notifications_per_post_are_bounded(subscription, caplog):
    too_many = [note(i) for i in range(hooks.MAX_NOTIFICATIONS + 1)]
    with caplog.at_level(logging.INFO):
        response = post({"value": too_many})
    assert response.status_code == 400
    problem = response.json()
    assert problem["errors"][0]["field"] == "value"
    assert "1000" in problem["errors"][0]["message"]
    assert len(log_lines(caplog)) == 1
    assert not InboxEvent.objects.exists()


def test_a_malformed_batch_answers_a_bounded_problem_and_one_line(subscription, caplog):
    with caplog.at_level(logging.INFO):
        response = post({"value": [{"clientState": f"x{i}"} for i in range(900)]})
    assert response.status_code == 400
    assert len(response.json()["errors"]) == hooks.MAX_ERRORS_SHOWN
    [line] = log_lines(caplog)
    assert "900 errors" in line.getMessage() and "x1" not in line.getMessage()


@pytest.mark.parametrize("size", [hooks.MAX_BODY + 1, 2_700_000])
def test_a_large_body_is_413_problem_json(subscription, caplog, size):
    # 2.7 MB is over Django's DATA_UPLOAD_MAX_MEMORY_SIZE: it used to be Django's HTML 400.
    with caplog.at_level(logging.INFO):
        response = post(b" " * size)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 413
    [line] = log_lines(caplog)
    assert "body too large" in line.getMessage()


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(subscription):
    # A client announcing 50 MB is refused on the header alone; Django never buffers the body.
    response = post(b"{}", CONTENT_LENGTH=str(50_000_000))
    assert response.status_code == 413


def test_only_post_is_allowed_and_the_refusal_is_problem_json(db):
    response = Client().get("/hooks/graph")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert response["Allow"] == "POST"


def test_a_flood_of_forged_posts_is_rate_limited_per_sender(subscription, caplog):
    # One line per refused post, but at most the security log's per-sender budget a minute.
    from gigbridge import securitylog

    with caplog.at_level(logging.INFO):
        for i in range(securitylog.PER_ACTOR_PER_MINUTE + 15):
            assert post({"value": [note(i, clientState="guess")]}).status_code == 403
    assert len(log_lines(caplog)) == securitylog.PER_ACTOR_PER_MINUTE
