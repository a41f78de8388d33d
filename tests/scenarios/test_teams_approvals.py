"""Approvals decided from Teams: the product's bot connected to the sandbox's Bot Connector, the
approvers clicking the cards in the sandbox's Teams view (``/teams/``) as they would in Teams.

Max chose Teams and Outlook for approval requests, Paula and Fiona Teams only; Paula is away for
the day with Fiona deciding for her. A request of 8,000 EUR needs Max (manager), then Paula
(procurement): cards go to Max, then to Paula and to Fiona for Paula. Max approves on the web
first, then clicks his stale card: it shows his decision and changes nothing. The next day
Fiona's delegation is over: her click is refused and changes nothing. Paula forgets the comment
that asking for changes needs, then approves. Every copy of every card ends up showing who
decided and when.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from conftest import request_payload
from gigbridge import clock
from gigbridge.audit.models import AuditEvent
from gigbridge.engagements.models import ApprovalStep, WorkRequest

from .conftest import run_jobs
from .teams_world import TeamsView, connect_bot, set_endpoint, tools_client

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def teams(graph, tenant_info, live_server, settings):
    """The product's bot reachable by the sandbox's Bot Connector; the Teams view signed in."""
    with tools_client(tenant_info) as http:
        connect_bot(settings, tenant_info, f"{live_server.url}/hooks/teams", http)
        TeamsView.sign_in(http, tenant_info)
        yield http
        set_endpoint(http, tenant_info, tenant_info["teams"]["messaging_endpoint"])


def choose(api, username: str, channel: str) -> None:
    answer = api(username).patch(
        "/api/v1/me/notices",
        {"preferences": {"approval_request": channel}},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content


def person_id(graph, email: str) -> str:
    return graph.find_user_by_mail(email)["id"]


def only_card(view: TeamsView, title: str):
    view.open_chat()
    found = [card for card in view.cards() if title in card.text]
    assert len(found) == 1, [card.text for card in view.cards()]
    return found[0]


def test_an_approval_decided_from_teams_cards_updates_every_copy(
    teams, graph, people, api, tenant_info
):
    http = teams
    choose(api, "max", "both")
    choose(api, "paula", "teams")
    choose(api, "fiona", "teams")
    paula = Client()
    paula.force_login(people["paula"])
    today = clock.today().isoformat()
    answer = paula.post(
        "/me/",
        {"what": "delegate", "delegate": "fiona", "starts_on": today, "ends_on": today},
    )
    assert answer.status_code == 302

    rita = api("rita")
    created = rita.post(
        "/api/v1/requests",
        request_payload(title="Teams card pilot", budget="8000.00"),
        content_type="application/json",
    ).json()
    rita.post(f"/api/v1/requests/{created['id']}/submit")
    request = WorkRequest.objects.get(pk=created["id"])
    manager = request.steps.get(role="manager")
    procurement = request.steps.get(role="procurement")
    assert (manager.state, procurement.state) == ("pending", "waiting")  # one after the other
    run_jobs()

    max_, paula_, fiona_ = (
        TeamsView(http, tenant_info, person_id(graph, f"{name}@contoso.example"))
        for name in ("max", "paula", "fiona")
    )
    title = "Teams card pilot"
    max_card = only_card(max_, title)
    assert "8,000.00 EUR" in max_card.text or "EUR 8,000.00" in max_card.text, max_card.text
    assert set(max_card.buttons) >= {"Approve", "Reject", "Ask for changes"}
    # Max decides on the web (the API here), then clicks the card he still sees: it shows his
    # decision, and nothing is decided twice.
    decided = api("max").post(
        f"/api/v1/approvals/{manager.pk}/decision",
        {"decision": "approve", "comment": ""},
        content_type="application/json",
    )
    assert decided.status_code == 200, decided.content
    max_.click(max_card, "Approve")
    max_.open_chat()
    assert "Approved by Max Manager" in max_.messages()[-1]
    assert (
        AuditEvent.objects.filter(action="approval.approve", object_id=str(manager.pk)).count() == 1
    )
    run_jobs()  # procurement's turn: Paula's card, and Fiona's while she decides for Paula
    paula_card = only_card(paula_, title)
    fiona_card = only_card(fiona_, title)

    # The next day Fiona no longer decides for Paula: her click is refused, nothing changes.
    clock.set_now(clock.now() + dt.timedelta(days=1))
    fiona_.click(fiona_card, "Approve")
    fiona_.open_chat()
    assert "You cannot decide this approval" in fiona_.messages()[-1]
    procurement.refresh_from_db()
    assert procurement.state == ApprovalStep.State.PENDING

    # Paula asks for changes without saying why: the card asks for the comment, nothing changes.
    paula_.click(paula_card, "Ask for changes")
    paula_.open_chat()
    assert "say why" in paula_.messages()[-1]
    procurement.refresh_from_db()
    assert procurement.state == ApprovalStep.State.PENDING
    paula_card = only_card(paula_, title)
    paula_.click(paula_card, "Approve")
    procurement.refresh_from_db()
    assert procurement.state == ApprovalStep.State.APPROVED
    assert procurement.decided_by == people["paula"]
    event = AuditEvent.objects.get(action="approval.approve", object_id=str(procurement.pk))
    assert event.after["via"] == "teams card"
    request.refresh_from_db()
    assert request.state == WorkRequest.State.APPROVED

    # Every copy is updated in place: each person's card shows who decided and when.
    run_jobs()
    for view, decided_by in (
        (max_, "Max Manager"),
        (paula_, "Paula Procurement"),
        (fiona_, "Paula Procurement"),
    ):
        view.open_chat()
        shown = [text for text in view.messages() if title in text]
        assert len(shown) == 1 and f"Approved by {decided_by}" in shown[0], shown
        assert not view.cards(), "a decided approval keeps no buttons"
