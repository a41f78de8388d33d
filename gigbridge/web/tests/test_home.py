"""The home (``/``): a panel per role the person holds, what waits on them first, counts right."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gigbridge import clock
from gigbridge.engagements import actions
from gigbridge.engagements.models import Engagement
from gigbridge.engagements.tests.test_approvals import new_request, pending, submitted
from gigbridge.sourcing import actions as marketplace
from gigbridge.sourcing.models import HoursApproval, Milestone, Proposal, Sourcing, TimeEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(client, people):
    def as_user(username):
        client.force_login(people[username])
        response = client.get("/")
        assert response.status_code == 200
        return response

    return as_user


def panel_keys(response) -> list[str]:
    return [p.key for p in response.context["panels"]]


def panel(response, key):
    return next(p for p in response.context["panels"] if p.key == key)


def approved(people, **overrides) -> Engagement:
    request = submitted(people["rita"], **overrides)
    actions.decide(people["max"], pending(request)[0], "approve")
    return Engagement.objects.get(request=request)


def test_an_approver_sees_pending_decisions_first_with_the_oldest(people, home, frozen_now):
    first = submitted(people["rita"], title="Logo work")
    frozen_now(hours=1)
    submitted(people["rita"], title="Second piece", budget="1234.50")
    response = home("max")  # rita's manager: a requester too
    assert panel_keys(response)[0] == "approvals"
    approvals = panel(response, "approvals")
    assert approvals.data["count"] == 2 and approvals.urgent
    assert [s.request.title for s in approvals.data["oldest"]] == ["Logo work", "Second piece"]
    page = response.content.decode()
    assert f"{first.reference} · Logo work" in page
    assert "Rita Requester" in page and "1,234.50 EUR" in page
    assert "waiting since 2026-12-01" in page and 'href="/approvals/"' in page


def test_an_approver_by_role_with_nothing_pending_is_told_so(home, people):
    response = home("paula")
    assert panel_keys(response) == ["approvals"]
    assert panel(response, "approvals").data["count"] == 0
    assert "Nothing waits for your decision." in response.content.decode()


def test_a_requester_sees_what_waits_on_them_and_their_open_work(people, home):
    rita = people["rita"]
    draft = new_request(rita, title="Unfinished draft")
    back = submitted(rita, title="Needs changes")
    actions.decide(people["max"], pending(back)[0], "request_changes", "Add the budget split")
    sourcing = approved(people, title="Find a designer")
    marketplace.sourcing_of(sourcing)
    for n in (1, 2):
        Proposal.objects.create(
            engagement=sourcing,
            upwork_id=f"p{n}",
            freelancer_name=f"Ana {n}",
            freelancer_email=f"ana{n}@freelance.example",
            received_at=clock.now(),
        )
    working = approved(people, title="Working now", pricing="hourly")
    Engagement.objects.filter(pk=working.pk).update(state=Engagement.State.ACTIVE)
    Sourcing.objects.filter(pk=marketplace.sourcing_of(working).pk).update(contract_id="k1")
    Milestone.objects.create(
        engagement=working,
        upwork_id="m1",
        sequence=1,
        description="First cut",
        amount=Decimal("500.00"),
        state="SUBMITTED",
        submitted_at=clock.now(),
    )
    # Hours in two ended weeks (Mondays 2026-11-16 and 11-23) and this week; one week approved.
    for day in (dt.date(2026, 11, 17), dt.date(2026, 11, 18), dt.date(2026, 11, 24), clock.today()):
        TimeEntry.objects.create(
            engagement=working,
            contract_id="k1",
            date=day,
            hours=Decimal("2"),
            amount=Decimal("100"),
            synced_at=clock.now(),
        )
    HoursApproval.objects.create(
        engagement=working,
        week_start=dt.date(2026, 11, 16),
        hours=Decimal("4"),
        amount=Decimal("200"),
        currency="USD",
        approved_by=rita,
        approved_at=clock.now(),
    )
    direct = approved(
        people,
        title="Direct hire",
        sourcing="direct",
        freelancer_email="new.person@freelancers.example",
        freelancer_country="PT",
    )
    response = home("rita")
    assert panel_keys(response)[:2] == ["waiting", "mine"]
    todos = panel(response, "waiting").data["todos"]
    kinds = {t.kind: t for t in todos}
    assert sorted(kinds) == ["agreements", "changes", "draft", "hours", "milestone", "proposals"]
    assert kinds["draft"].url == f"/requests/{draft.pk}/"
    assert kinds["changes"].url == f"/requests/{back.pk}/"
    assert "2 proposals to review" in kinds["proposals"].text
    assert "“First cut” was submitted" in kinds["milestone"].text
    hours = [t for t in todos if t.kind == "hours"]
    assert [t.since for t in hours] == [dt.date(2026, 11, 23)]  # approved and running weeks not
    assert kinds["agreements"].url == f"/engagements/{direct.pk}/"
    assert "has not signed NDA, MSA" in kinds["agreements"].text
    mine = panel(response, "mine").data
    assert mine["request_count"] == 2  # the draft and the one sent back (a draft again)
    assert mine["engagement_count"] == 3
    page = response.content.decode()
    assert "finding a freelancer" in page and "work under way" in page
    assert "draft: not submitted yet" in page


def test_a_requester_with_nothing_to_do_is_told_so(home):
    response = home("carol")
    assert panel_keys(response) == ["waiting", "mine"]
    assert panel(response, "waiting").data["todos"] == []
    assert "Nothing waits on you." in response.content.decode()


def test_a_program_admin_sees_the_program_and_the_integrations_in_words(home):
    response = home("ada")
    assert "program" in panel_keys(response) and "waiting" not in panel_keys(response)
    data = panel(response, "program").data
    names = [c.name for c in data["checks"]]
    assert names == [
        "Database",
        "Worker",
        "Queue",
        "Microsoft 365 (Graph)",
        "Upwork",
        "Teams bot",
        "Virus scanner",
    ]
    worker = data["checks"][1]
    assert worker.status == "problem" and "gigbridge worker" in worker.todo  # none runs in tests
    assert panel(response, "program").urgent
    page = response.content.decode()
    assert 'href="/analytics/"' in page and "What to do: start one" in page
    # ada reviews access and quarantine as an overseer too
    assert {"audit", "quarantine"} <= set(panel_keys(response))


def test_an_auditor_sees_access_review_audit_events_and_the_quarantine(people, home):
    submitted(people["rita"], title="Audited work")
    response = home("audrey")
    assert set(panel_keys(response)) == {"audit", "quarantine"}
    audit = panel(response, "audit").data
    assert (audit["drift"], audit["grants"]) == (0, 0)
    assert 1 <= len(audit["events"]) <= 5
    assert panel(response, "quarantine").data["count"] == 0
    page = response.content.decode()
    assert 'href="/access/"' in page and 'href="/audit/"' in page
    assert 'href="/deliverables/quarantine/"' in page


def test_someone_with_no_role_gets_an_explanation_and_the_hub(client, people):
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("nora", password="x")
    client.force_login(nobody)
    response = client.get("/")
    assert response.status_code == 200 and response.context["panels"] == []
    page = response.content.decode()
    assert "You have no role" in page and 'href="/hub/"' in page


def test_the_home_runs_a_bounded_number_of_queries(people, home, django_assert_max_num_queries):
    for n in range(8):
        submitted(people["rita"], title=f"Request {n}")
    with django_assert_max_num_queries(40):
        response = home("max")
    assert panel(response, "approvals").data["count"] == 8
    assert len(panel(response, "approvals").data["oldest"]) == 5
