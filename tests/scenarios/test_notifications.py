"""Graph change notifications: subscriptions, the /hooks/graph receiver, and what they trigger.

The sandbox tenant delivers notifications to a live Gigbridge web server (``live_server``), as
Graph would: the validation handshake when subscribing, then a POST for each change.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from gigbridge import clock
from gigbridge.access.models import Drift, GraphSubscription
from gigbridge.access.watch import EVENT_JOB, ensure_subscriptions, notification_url
from gigbridge.jobs.models import InboxEvent, OutboxJob
from gigbridge.jobs.tests.test_workers import wait_until
from gigbridge.program.models import Workspace

from .conftest import run_jobs
from .test_access import create_team

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hooked(graph, live_server, settings):
    """The product's webhook reachable by the sandbox tenant."""
    settings.GRAPH = {**settings.GRAPH, "notification_url": f"{live_server.url}/hooks/graph"}
    yield graph
    for row in GraphSubscription.objects.all():
        graph.delete_subscription(row.subscription_id)


def test_a_guest_added_by_hand_is_found_as_soon_as_the_tenant_says_so(hooked, people):
    graph = hooked
    team_id = create_team(graph, "Watched", "max@contoso.example")
    Workspace.objects.create(name="Watched", team_id=team_id)

    assert ensure_subscriptions(graph) == {"created": 2, "renewed": 0, "deleted": 0, "failed": 0}
    assert set(GraphSubscription.objects.values_list("resource", flat=True)) == {
        "/users",
        f"/teams/{team_id}/members",
    }
    assert ensure_subscriptions(graph) == {"created": 0, "renewed": 0, "deleted": 0, "failed": 0}

    invited = graph.invite_guest("eve@outside.example", "https://teams.microsoft.com")
    graph.add_team_member(team_id, invited["invitedUser"]["id"], roles=["guest"])
    wait_until(
        lambda: InboxEvent.objects.filter(payload__resource__icontains=team_id).exists(),
        what="the tenant's notification of the new member",
    )
    run_jobs()
    drift = set(Drift.objects.values_list("kind", "principal"))
    assert ("team_member", "eve@outside.example") in drift
    assert InboxEvent.objects.filter(handled_at__isnull=True).count() == 0


def test_an_unreachable_webhook_fails_softly_and_is_tried_again(graph, settings, db):
    settings.GRAPH = {**settings.GRAPH, "notification_url": "http://127.0.0.1:9/hooks/graph"}
    assert ensure_subscriptions(graph) == {"created": 0, "renewed": 0, "deleted": 0, "failed": 1}
    assert not GraphSubscription.objects.exists()


def test_a_lost_subscription_is_made_again_and_an_unrecorded_one_removed(hooked, people):
    graph = hooked
    ensure_subscriptions(graph)
    row = GraphSubscription.objects.get(resource="/users")
    graph.delete_subscription(row.subscription_id)  # e.g. removed by the tenant
    # ... and one made by a pass that died before recording it (its secret is lost):
    graph.create_subscription(
        "/users", ["updated"], notification_url(), clock.now() + dt.timedelta(days=1), "lost"
    )
    GraphSubscription.objects.filter(pk=row.pk).update(expires_at=clock.now())  # due to renew

    assert ensure_subscriptions(graph) == {"created": 1, "renewed": 0, "deleted": 1, "failed": 0}
    held = {s["id"] for s in graph.list_subscriptions()}
    assert held == set(GraphSubscription.objects.values_list("subscription_id", flat=True))


def notification(subscription: GraphSubscription, **fields) -> dict:
    return {
        "id": "n-1",
        "subscriptionId": subscription.subscription_id,
        "clientState": subscription.client_state,
        "changeType": "created",
        "resource": "teams('t-1')/members('m-1')",
        **fields,
    }


@pytest.fixture
def subscription(db):
    return GraphSubscription.objects.create(
        resource="/teams/t-1/members",
        subscription_id="sub-1",
        client_state="s3cret-state",
        expires_at=clock.now(),
        created_at=clock.now(),
    )


def post(body) -> object:
    return Client().post("/hooks/graph", data=json.dumps(body), content_type="application/json")


def test_the_validation_token_is_echoed_as_plain_text(db):
    response = Client().post("/hooks/graph?validationToken=Validation%3A%20Testing%20client")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"Validation: Testing client"


def test_a_wrong_client_state_is_refused_and_nothing_is_stored(subscription):
    response = post({"value": [notification(subscription, clientState="guessed")]})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    response = post({"value": [notification(subscription, subscriptionId="sub-unknown")]})
    assert response.status_code == 403
    assert not InboxEvent.objects.exists() and not OutboxJob.objects.exists()


def test_a_duplicate_delivery_is_stored_and_handled_once(subscription):
    body = {"value": [notification(subscription)]}
    assert post(body).status_code == 202
    assert post(body).status_code == 202
    event = InboxEvent.objects.get()
    assert "clientState" not in event.payload  # the secret is not kept
    assert OutboxJob.objects.filter(kind=EVENT_JOB).count() == 1


def test_a_malformed_body_gets_a_problem_naming_the_field(subscription):
    response = post({"value": [{"clientState": "x"}]})
    assert response.status_code == 400
    assert "value.0.subscriptionId" in response.json()["detail"]
    response = Client().post("/hooks/graph", data=b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert not InboxEvent.objects.exists()


def test_out_of_order_notifications_cannot_leave_access_wrong(hooked, people, live_server):
    import httpx

    from .test_access import FREELANCER, contracted_engagement, team_member

    graph = hooked
    team_id = create_team(graph, "Ordered", "max@contoso.example")
    workspace = Workspace.objects.create(name="Ordered", team_id=team_id)
    ensure_subscriptions(graph)
    engagement = contracted_engagement(people, workspace)
    run_jobs()
    guest_id = graph.find_user_by_mail(FREELANCER)["id"]
    membership = team_member(graph, team_id, guest_id)
    graph.remove_team_member(team_id, membership["id"])  # someone removes the guest by hand

    # The removal's notification arrives, and then a stale "created" for the same member, late.
    subscription = GraphSubscription.objects.get(resource=f"/teams/{team_id}/members")
    resource = f"teams('{team_id}')/members('{membership['id']}')"
    for change, note_id in (("deleted", "late-2"), ("created", "late-1")):
        late = notification(subscription, id=note_id, changeType=change, resource=resource)
        body = {"value": [late]}
        assert httpx.post(f"{live_server.url}/hooks/graph", json=body).status_code == 202
    run_jobs()

    # Whatever the order, the pass read the tenant: the contracted guest is back, once.
    members = [m for m in graph.list_team_members(team_id) if m.get("userId") == guest_id]
    assert len(members) == 1
    assert engagement.grants.get(kind="team_member").external_id == members[0]["id"]
