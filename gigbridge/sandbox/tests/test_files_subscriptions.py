"""Change notifications from the Graph emulator to a webhook on loopback (plain http)."""

from __future__ import annotations

import datetime as dt

import pytest

from gigbridge.integrations.msgraph import conformance
from gigbridge.sandbox.graph.testing import assert_graph_error

from .files_support import (
    Receiver,
    advance_clock,
    conforms,
    guest,
    sandbox_now,
    sandbox_url,
    team,
    tools,
    unified_group,
)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def subscribe(graph, receiver):
    """POST /subscriptions (deleted again after the test); returns the subscription."""
    made = []

    def create(resource: str, change_type: str = "updated", minutes: int = 45, **extra):
        body = {
            "changeType": change_type,
            "notificationUrl": receiver.url(),
            "resource": resource,
            "expirationDateTime": in_minutes(graph, minutes),
            "clientState": "secret-client-state",
            **extra,
        }
        assert conformance.validate("subscription", body, direction="request") == []
        subscription = graph.ok("POST", "/subscriptions", json=body, status=201)
        conforms("subscription", subscription)
        made.append(subscription["id"])
        return subscription

    yield create
    for key in made:
        graph.call("DELETE", f"/subscriptions/{key}")


def in_minutes(graph, minutes: float) -> str:
    """An expiration ``minutes`` from now by the sandbox clock, which judges it."""
    moment = sandbox_now(graph.http, graph.info) + dt.timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def notification(delivery: dict) -> dict:
    body = delivery["body"]
    assert conformance.validate("changeNotificationCollection", body, direction="response") == []
    assert delivery["content_type"].startswith("application/json")
    return body["value"][0]


def test_handshake_then_a_user_change_is_notified(graph, receiver, subscribe, info):
    subscription = subscribe("/users")
    assert subscription["changeType"] == "updated"
    assert subscription["applicationId"] == info["client_id"]
    token = receiver.tokens[-1]
    assert token.startswith("Validation: Testing client application reachability")

    user = guest(graph)  # a new guest user

    delivery = receiver.wait(lambda n: n["resource"] == f"Users/{user['id']}")
    note = notification(delivery)
    assert note["clientState"] == "secret-client-state"
    assert note["subscriptionId"] == subscription["id"]
    assert note["changeType"] == "updated"
    assert note["tenantId"] == info["tenant_id"]
    assert note["resourceData"] == {
        "@odata.type": "#Microsoft.Graph.User",
        "@odata.id": f"Users/{user['id']}",
        "id": user["id"],
        "organizationId": info["tenant_id"],
    }
    assert note["subscriptionExpirationDateTime"] == subscription["expirationDateTime"]
    assert note["id"]  # stable across retries: receivers can drop duplicates

    assert graph.call("DELETE", f"/users/{user['id']}").status_code == 204
    gone = receiver.wait(lambda n: n["resource"] == f"Users/{user['id']}")
    assert notification(gone)["changeType"] == "updated"  # Graph's soft delete


@pytest.mark.parametrize(
    ("echo", "message"),
    [
        ("wrong", "Response must exactly match validationToken query parameter."),
        ("html", "Response must be text/plain"),
        ("status", "Notification endpoint must respond with 200 OK to validation request."),
    ],
)
def test_a_bad_validation_answer_fails_the_subscription(graph, receiver, echo, message):
    receiver.echo, receiver.validation_status = echo, 500
    body = {
        "changeType": "updated",
        "notificationUrl": receiver.url(),
        "resource": "/users",
        "expirationDateTime": in_minutes(graph, 30),
        "clientState": "x",
    }

    response = graph.call("POST", "/subscriptions", json=body)

    error = assert_graph_error(response, 400, "InvalidRequest")
    assert error["message"].startswith("Subscription validation request failed.")
    assert message in error["message"]
    assert receiver.tokens  # the handshake was tried
    listed = graph.ok("GET", "/subscriptions")
    assert receiver.url() not in {s["notificationUrl"] for s in listed["value"]}


def test_subscription_requests_graph_refuses(graph, receiver):
    base = {
        "changeType": "updated",
        "notificationUrl": receiver.url(),
        "resource": "/users",
        "expirationDateTime": in_minutes(graph, 30),
    }
    cases = [
        ({"expirationDateTime": in_minutes(graph, 60 * 24 * 40)}, "0-41760 minutes"),
        ({"expirationDateTime": in_minutes(graph, -5)}, "0-41760 minutes"),
        ({"changeType": "created"}, "not supported"),
        ({"resource": "/me/messages"}, "not supported"),
        ({"notificationUrl": "http://gigbridge.example/hooks/graph"}, "https"),
    ]
    for change, text in cases:
        response = graph.call("POST", "/subscriptions", json={**base, **change})
        error = assert_graph_error(response, 400, "InvalidRequest")
        assert text in error["message"], (change, error)
    assert receiver.tokens == []  # refused before any handshake


def test_team_member_changes_are_notified(graph, receiver, subscribe):
    team_id = team(graph)
    subscription = subscribe(f"/teams/{team_id}/members", "created,deleted", minutes=50)
    freelancer = guest(graph)
    member = {
        "@odata.type": "#microsoft.graph.aadUserConversationMember",
        "roles": [],
        "user@odata.bind": f"https://graph.microsoft.com/v1.0/users('{freelancer['id']}')",
    }

    added = graph.ok("POST", f"/teams/{team_id}/members", json=member, status=201)
    note = notification(receiver.wait(lambda n: n["changeType"] == "created"))
    assert note["resource"] == f"teams('{team_id}')/members('{added['id']}')"
    assert note["resourceData"]["@odata.type"] == "#Microsoft.Graph.aadUserConversationMember"
    assert note["resourceData"]["id"] == added["id"]
    assert note["subscriptionId"] == subscription["id"]

    graph.ok("DELETE", f"/teams/{team_id}/members/{added['id']}", status=204)
    removed = notification(receiver.wait(lambda n: n["changeType"] == "deleted"))
    assert removed["resource"] == note["resource"]

    too_long = graph.call(
        "POST",
        "/subscriptions",
        json={
            "changeType": "created",
            "notificationUrl": receiver.url(),
            "resource": f"/teams/{team_id}/members",
            "expirationDateTime": in_minutes(graph, 120),
        },
    )
    assert "0-60 minutes" in assert_graph_error(too_long, 400, "InvalidRequest")["message"]


def test_drive_changes_are_notified_and_failed_deliveries_retried(
    graph, receiver, subscribe, http, info
):
    drive = graph.ok("GET", f"/groups/{unified_group(graph)}/drive")["id"]
    subscription = subscribe(f"/drives/{drive}/root", minutes=60 * 24)
    receiver.statuses = [500, 503]  # the receiver fails twice, then takes it

    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    graph.ok(
        "POST",
        f"/drives/{drive}/items/{root}/children",
        status=201,
        json={"name": "Inputs", "folder": {}},
    )

    note = notification(receiver.wait(timeout=15))
    assert note["resource"] == f"drives/{drive}/root" and note["changeType"] == "updated"
    assert note["resourceData"]["id"] == root
    assert receiver.attempts == 3
    deliveries = tools(http, info, "GET", "/_sandbox/notifications")["value"]
    mine = [d for d in deliveries if d["subscriptionId"] == subscription["id"]]
    assert mine[0]["state"] == "delivered" and mine[0]["attempts"] == 3


def test_the_dial_loses_the_next_notifications_on_purpose(graph, receiver, subscribe, http, info):
    drive = graph.ok("GET", f"/groups/{unified_group(graph)}/drive")["id"]
    subscription = subscribe(f"/drives/{drive}/root", minutes=60 * 24)
    set_dials = tools(
        http, info, "POST", "/_sandbox/control", json={"files": {"lose_notifications": 1}}
    )
    assert set_dials["files"]["lose_notifications"] == 1
    try:
        graph.ok("PUT", f"/drives/{drive}/root:/lost.txt:/content", content=b"one", status=201)
        graph.ok("PUT", f"/drives/{drive}/root:/kept.txt:/content", content=b"two", status=201)
        note = notification(receiver.wait(timeout=15))
        assert note["subscriptionId"] == subscription["id"]
        assert receiver.attempts == 1  # the first change was never sent
        deliveries = tools(http, info, "GET", "/_sandbox/notifications")["value"]
        mine = [d for d in deliveries if d["subscriptionId"] == subscription["id"]]
        assert [d["state"] for d in mine] == ["delivered", "failed"]  # newest first
        assert "lost on purpose" in mine[1]["lastStatus"]
        assert tools(http, info, "GET", "/_sandbox/control")["files"]["lose_notifications"] == 0
    finally:
        tools(http, info, "POST", "/_sandbox/control", json={"files": {"lose_notifications": 0}})


def test_lifecycle_renew_list_and_delete(graph, receiver, subscribe, http, info):
    subscription = subscribe(
        "/users",
        "updated,deleted",
        minutes=30,
        lifecycleNotificationUrl=receiver.url("/hooks/lifecycle"),
    )
    assert subscription["lifecycleNotificationUrl"].endswith("/hooks/lifecycle")
    key = subscription["id"]

    ticked = tools(http, info, "POST", "/_sandbox/lifecycle/tick", json={})
    assert ticked["reauthorizationRequired"] >= 1
    lifecycle = receiver.wait(
        lambda n: (
            n.get("lifecycleEvent") == "reauthorizationRequired" and n["subscriptionId"] == key
        )
    )
    assert lifecycle["path"] == "/hooks/lifecycle"
    note = notification(lifecycle)
    assert note["clientState"] == "secret-client-state"
    again = tools(http, info, "POST", "/_sandbox/lifecycle/tick", json={})
    assert again["reauthorizationRequired"] == 0  # once per expiry

    later = {"expirationDateTime": in_minutes(graph, 60 * 24 * 2)}
    renewed = graph.ok("PATCH", f"/subscriptions/{key}", json=later)
    conforms("subscription", renewed)
    assert renewed["expirationDateTime"] > subscription["expirationDateTime"]
    refused = graph.call("PATCH", f"/subscriptions/{key}", json={"resource": "/groups"})
    assert_graph_error(refused, 400, "InvalidRequest")

    listed = graph.ok("GET", "/subscriptions")
    conforms("subscription", listed, collection=True)
    assert key in {s["id"] for s in listed["value"]}
    conforms("subscription", graph.ok("GET", f"/subscriptions/{key}"))

    removed = tools(http, info, "POST", "/_sandbox/lifecycle/remove", json={"subscriptionId": key})
    assert removed["lifecycleNotification"] == "delivered"
    receiver.wait(lambda n: n.get("lifecycleEvent") == "subscriptionRemoved")
    assert_graph_error(graph.call("GET", f"/subscriptions/{key}"), 404, "ResourceNotFound")
    assert_graph_error(graph.call("DELETE", f"/subscriptions/{key}"), 404, "ResourceNotFound")


def test_subscriptions_expire_by_the_sandbox_clock(graph, subscribe, http, info):
    key = subscribe("/users", minutes=30)["id"]
    advance_clock(http, info, 3600)
    assert_graph_error(graph.call("GET", f"/subscriptions/{key}"), 404, "ResourceNotFound")
    assert key not in {s["id"] for s in graph.ok("GET", "/subscriptions")["value"]}
    assert tools(http, info, "POST", "/_sandbox/lifecycle/tick", json={})["expired"] >= 1
    assert http.get(sandbox_url(info, "/_sandbox/clock")).status_code == 401  # tools only
