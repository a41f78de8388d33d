"""The milestones and weekly hours on the engagement page and in the API
(/work/notes/contract-spec.md): forms, buttons, messages, problem+json naming the field."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest

from gigbridge import clock
from gigbridge.sourcing.models import HoursApproval, MilestoneDecision, Payment, TimeEntry
from gigbridge.sourcing.tests.test_milestones import contracted, milestone  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client, people):
    def as_user(username):
        client.force_login(people[username])
        return client

    return as_user


@pytest.fixture
def page_of(contracted):  # noqa: F811
    """Two milestones (one submitted, one to fund) and two weeks of hours (one ended)."""
    design = milestone(contracted, "m1", "1200.00")
    guide = milestone(contracted, "m2", None, state="NOT_FUNDED", sequence=2, description="Guide")
    for day, hours in (("2026-11-24", "6.5"), ("2026-11-25", "4"), ("2026-11-30", "8")):
        TimeEntry.objects.create(
            engagement=contracted,
            contract_id="k1",
            date=dt.date.fromisoformat(day),
            hours=Decimal(hours),
            amount=Decimal(hours) * 85,
            synced_at=clock.now(),
        )
    return contracted, design, guide


def messages_of(response) -> list[str]:
    """The messages this request added (the session keeps earlier unread ones before them)."""
    return [str(m) for m in response.wsgi_request._messages._queued_messages]


def test_the_hiring_manager_sees_what_can_be_decided(login, page_of):
    engagement, design, guide = page_of
    html = login("rita").get(f"/engagements/{engagement.pk}/").content.decode()
    assert '<section id="milestones" aria-labelledby="milestones-heading">' in html
    assert f'<li id="milestone-{design.pk}"' in html
    assert f'action="/engagements/{engagement.pk}/milestones/{design.pk}/approve/"' in html
    assert f'action="/engagements/{engagement.pk}/milestones/{design.pk}/changes/"' in html
    assert f'action="/engagements/{engagement.pk}/milestones/{guide.pk}/activate/"' in html
    assert 'name="amount" inputmode="decimal" autocomplete="off" value="1200.00"' in html
    for button in ("Approve and pay", "Ask for changes", "Activate", "Approve week"):
        assert f">{button}</button>" in html
    assert "at most 1,200.00" in html  # 4000 EUR left at 1:1, the milestone is less
    assert '<section id="hours" aria-labelledby="hours-heading">' in html
    assert 'id="week-2026-11-23"' in html and 'id="week-2026-11-30"' in html
    assert f'action="/engagements/{engagement.pk}/hours/2026-11-23/approve/"' in html
    assert "/hours/2026-11-30/approve/" not in html  # that week is not over
    assert "records the program's approval" in html and "dispute hours, do it on Upwork" in html


def test_others_who_see_the_page_get_no_forms(login, page_of):
    engagement, _, _ = page_of
    html = login("max").get(f"/engagements/{engagement.pk}/").content.decode()
    assert 'id="milestones"' in html and 'id="hours"' in html
    assert "Approve and pay" not in html and "Approve week</button>" not in html
    assert "not approved yet" in html


def test_approving_from_the_page_goes_back_to_the_milestone(login, page_of):
    engagement, design, _ = page_of
    client = login("rita")
    url = f"/engagements/{engagement.pk}/milestones/{design.pk}/approve/"
    response = client.post(url, {"amount": "1000.50", "comment": "Most of it"})
    assert response.status_code == 302
    assert response["Location"] == f"/engagements/{engagement.pk}/#milestone-{design.pk}"
    assert "Approved: 1,000.50 USD for “Design”" in messages_of(response)[0]
    decision = MilestoneDecision.objects.get()
    assert (decision.amount, decision.comment) == (Decimal("1000.50"), "Most of it")

    again = client.post(url, {"amount": "1000.50"})
    assert "Not approved: “Design” has been approved already" in messages_of(again)[0]
    html = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert "approved 1,000.50 USD on 2026-12-01: “Most of it”" in html
    assert "On its way to Upwork." in html and "Approve and pay" not in html


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("abc", "amount: 'abc' is not a number"),
        ("1300", "amount: 1,300.00 USD is more than the milestone's 1,200.00 USD"),
        ("-1", "amount: Input should be greater than 0"),
    ],
)
def test_a_refused_amount_is_named_on_the_page(login, page_of, amount, says):
    engagement, design, _ = page_of
    response = login("rita").post(
        f"/engagements/{engagement.pk}/milestones/{design.pk}/approve/", {"amount": amount}
    )
    assert response.status_code == 302
    assert messages_of(response) == [f"Not approved: {says}"]
    assert not MilestoneDecision.objects.exists()


def test_asking_for_changes_and_funding_from_the_page(login, page_of):
    engagement, design, guide = page_of
    client = login("rita")
    changes = f"/engagements/{engagement.pk}/milestones/{design.pk}/changes/"
    refused = client.post(changes, {"comment": " "})
    assert messages_of(refused) == ["Changes not asked for: comment: say what should change"]
    asked = client.post(changes, {"comment": "Bigger logo"})
    assert asked["Location"].endswith(f"#milestone-{design.pk}")
    funded = client.post(f"/engagements/{engagement.pk}/milestones/{guide.pk}/activate/")
    assert funded["Location"].endswith(f"#milestone-{guide.pk}")
    assert "“Guide” is being funded on Upwork." in messages_of(funded)[0]
    kinds = sorted(MilestoneDecision.objects.values_list("kind", flat=True))
    assert kinds == ["activate", "changes"]
    html = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert "asked for changes on 2026-12-01: “Bigger logo”" in html
    assert "asked Upwork to fund it on 2026-12-01" in html


def test_a_failed_decision_shows_upworks_reason_and_can_be_made_again(login, page_of):
    engagement, design, _ = page_of
    client = login("rita")
    client.post(f"/engagements/{engagement.pk}/milestones/{design.pk}/approve/", {})
    MilestoneDecision.objects.update(state="failed", error="Milestone is locked by a dispute")
    html = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert re.search(r'class="decision error" role="alert"', html)
    assert "Upwork refused it: Milestone is locked by a dispute." in html
    assert "Approve and pay" in html


def test_approving_a_week_from_the_page(login, page_of):
    engagement, _, _ = page_of
    client = login("rita")
    response = client.post(f"/engagements/{engagement.pk}/hours/2026-11-23/approve/", {})
    assert response["Location"] == f"/engagements/{engagement.pk}/#week-2026-11-23"
    assert HoursApproval.objects.get().hours == Decimal("10.50")
    html = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert "approved by Rita Requester on 2026-12-01" in html
    for week, says in (
        ("2026-11-30", "has not ended yet"),
        ("2026-13-01", "is not a date"),
        ("2026-11-23", "was approved by Rita Requester"),
    ):
        refused = client.post(f"/engagements/{engagement.pk}/hours/{week}/approve/", {})
        assert refused["Location"] == f"/engagements/{engagement.pk}/#hours"
        assert says in messages_of(refused)[0]


# --- the API -------------------------------------------------------------------------------


def post(client, url: str, body: dict):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_api_answers_with_the_marketplace_view(api, page_of):
    engagement, design, guide = page_of
    rita = api("rita")
    base = f"/api/v1/engagements/{engagement.pk}"
    response = post(rita, f"{base}/milestones/{design.pk}/approve", {"amount": "700.00"})
    assert response.status_code == 202, response.content
    body = response.json()
    [shown] = [m for m in body["milestones"] if m["id"] == design.pk]
    [decision] = shown["decisions"]
    assert (decision["kind"], decision["state"], decision["by"]) == ("approve", "queued", "rita")
    assert Decimal(decision["amount"]) == Decimal("700.00")
    assert Decimal(str(body["approval_limit"])) == Decimal("3300.00")
    assert body == rita.get(f"{base}/marketplace").json()

    response = post(rita, f"{base}/milestones/{guide.pk}/activate", {"message": "Go"})
    assert response.status_code == 202
    response = post(rita, f"{base}/hours/2026-11-23/approve", {"comment": "Fine"})
    assert response.status_code == 200
    week = next(w for w in response.json()["weeks"] if w["week_start"] == "2026-11-23")
    assert (week["approved_by"], week["comment"], week["ended"]) == ("rita", "Fine", True)
    assert Decimal(str(week["hours"])) == Decimal("10.50")


def test_the_api_names_the_field_it_refuses(api, page_of):
    engagement, design, _ = page_of
    Payment.objects.create(
        engagement=engagement,
        transaction_id="t1",
        contract_id="k1",
        amount=Decimal("3500.00"),
        currency="USD",
        amount_program=Decimal("3500.00"),
        paid_at=clock.now(),
    )
    rita = api("rita")
    base = f"/api/v1/engagements/{engagement.pk}"
    response = post(rita, f"{base}/milestones/{design.pk}/approve", {})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert (error["field"], error["rule"]) == ("amount", "budget")
    assert "500.00 USD" in error["message"]

    response = post(rita, f"{base}/milestones/{design.pk}/request-changes", {})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "comment"
    response = post(rita, f"{base}/milestones/{design.pk}/request-changes", {"comment": ""})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "comment"
    response = post(rita, f"{base}/hours/2026-02-30/approve", {})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "week_start"
    response = post(rita, f"{base}/hours/2026-11-24/approve", {})
    assert response.status_code == 422 and "not a Monday" in response.json()["detail"]
    response = post(rita, f"{base}/milestones/{design.pk}/approve", {"amount": "1e30"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "amount"


def test_the_api_refuses_others_and_hides_what_they_cannot_see(api, page_of):
    engagement, design, _ = page_of
    base = f"/api/v1/engagements/{engagement.pk}"
    response = post(api("max"), f"{base}/milestones/{design.pk}/approve", {})
    assert response.status_code == 403
    response = post(api("paula"), f"{base}/milestones/{design.pk}/approve", {})
    assert response.status_code == 404
    other = f"/api/v1/engagements/{engagement.pk}/milestones/{design.pk + 100}/approve"
    assert post(api("rita"), other, {}).status_code == 404
    assert not MilestoneDecision.objects.exists()


@pytest.mark.parametrize("body", ['{"amout": "500.00"}', '{"Amount": 500}', "[]", '"500.00"'])
def test_a_misspelt_or_malformed_approval_pays_nothing(api, page_of, body):
    """An unknown field or a body that is not an object was read as {} (pay the whole
    milestone); it is refused, naming what is wrong."""
    engagement, design, _ = page_of
    response = api("rita").post(
        f"/api/v1/engagements/{engagement.pk}/milestones/{design.pk}/approve",
        body,
        content_type="application/json",
    )
    assert response.status_code in (400, 422), response.content
    assert response["Content-Type"] == "application/problem+json"
    assert not MilestoneDecision.objects.exists()


@pytest.mark.parametrize(
    ("what", "field", "body"),
    [
        ("approve", "comment", {"amount": "10.00"}),
        ("changes", "comment", {}),
        ("activate", "message", {}),
    ],
)
def test_a_nul_character_in_a_page_form_is_refused_not_a_server_error(
    login, page_of, what, field, body
):
    """PostgreSQL text cannot hold U+0000: the forms refuse it at the field."""
    engagement, design, guide = page_of
    milestone = guide if what == "activate" else design
    response = login("rita").post(
        f"/engagements/{engagement.pk}/milestones/{milestone.pk}/{what}/",
        {**body, field: "a\x00b"},
    )
    assert response.status_code == 302
    assert "must not contain the NUL character" in messages_of(response)[0]
    assert not MilestoneDecision.objects.exists()
