"""Notices in Teams: per-person channels, routing, cards, and approvals decided from a card.

The Teams transport is replaced by recording fakes (``teams``); card buttons are pressed by
calling the registered handler with ``inbound.CardAction`` objects, as ``/hooks/teams`` does."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.test import Client

from conftest import EXAMPLE_POLICY, PASSWORD, request_payload
from gigbridge import clock
from gigbridge.audit.models import AuditEvent
from gigbridge.engagements import actions
from gigbridge.engagements.models import ApprovalStep, WorkRequest
from gigbridge.integrations.teams import client as teams_client
from gigbridge.integrations.teams import inbound
from gigbridge.integrations.teams.client import Sent
from gigbridge.jobs.actions import run
from gigbridge.jobs.errors import PermanentError
from gigbridge.jobs.models import OutboxJob
from gigbridge.notifications import actions as notices
from gigbridge.notifications import cards
from gigbridge.notifications.models import TeamsCard
from gigbridge.people import notices as preferences
from gigbridge.people.actions import set_delegation
from gigbridge.program.actions import activate_policy_file
from gigbridge.program.models import CostCenter

pytestmark = pytest.mark.django_db


class FakeTeams:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []
        self.updates: list[tuple[str, str, dict]] = []
        self.unreachable: set[str] = set()
        self.is_configured = True

    def configured(self) -> bool:
        return self.is_configured

    def send_to_person(self, email: str, activity: dict) -> Sent:
        if email in self.unreachable:
            raise PermanentError(f"{email} is not a Teams user")
        self.sent.append((email, activity))
        return Sent(f"a:{email}", f"act-{len(self.sent)}")

    def update(self, conversation_id: str, activity_id: str, activity: dict) -> None:
        self.updates.append((conversation_id, activity_id, activity))

    def cards_to(self, email: str) -> list[dict]:
        return [card_of(a) for to, a in self.sent if to == email]


def card_of(activity: dict) -> dict:
    (attachment,) = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


@pytest.fixture
def teams(monkeypatch):
    fake = FakeTeams()
    monkeypatch.setattr(teams_client, "configured", fake.configured)
    monkeypatch.setattr(teams_client, "send_to_person", fake.send_to_person)
    monkeypatch.setattr(teams_client, "update", fake.update)
    return fake


def deliver():
    """Run every pending outbox job, including those the jobs queue (fallback mails)."""
    for _ in range(5):
        pending = list(OutboxJob.objects.filter(state=OutboxJob.State.PENDING).order_by("pk"))
        if not pending:
            return
        for job in pending:
            run(job.pk)


def jobs(kind: str) -> list[OutboxJob]:
    return list(OutboxJob.objects.filter(kind=kind).order_by("pk"))


def submitted(user, **overrides) -> WorkRequest:
    data = request_payload(**overrides)
    data["cost_center"] = CostCenter.objects.get(code=data["cost_center"])
    data["start_date"] = dt.date.fromisoformat(data["start_date"])
    data["end_date"] = dt.date.fromisoformat(data["end_date"])
    return actions.submit_request(user, actions.create_request(user, data))


def press(verb: str, step_id, who, comment: str = "", activity_id: str = "act-1"):
    handler = inbound.card_handler(verb)
    assert handler is not None, "no card handler registered for approval verbs"
    return handler(
        inbound.CardAction(
            verb=verb,
            data={"step": step_id},
            inputs={"comment": comment} if comment else {},
            sender=inbound.Sender(
                aad_object_id=f"aad-{who}", name=str(who), email=getattr(who, "email", who)
            ),
            conversation_id="a:conv",
            activity_id=activity_id,
        )
    )


def texts(card: dict) -> str:
    """Every text of a card (blocks, facts, inputs, action titles), for assertions."""
    return json.dumps(card, ensure_ascii=False)


def buttons(card: dict) -> list[str]:
    return [
        action.get("verb", action["type"])
        for element in card["body"]
        if element["type"] == "ActionSet"
        for action in element["actions"]
    ]


# -- preferences ------------------------------------------------------------------------------


def test_the_default_comes_from_the_policy_and_a_person_overrides_it_per_kind(people, tmp_path):
    rita = people["rita"]
    assert preferences.channel_for(rita, "spend_alert") == "outlook"  # the example policy
    teams_policy = tmp_path / "program.yaml"
    teams_policy.write_text(
        EXAMPLE_POLICY.read_text().replace("default_channel: outlook", "default_channel: teams")
    )
    activate_policy_file(teams_policy, actor="tests")
    assert preferences.channel_for(rita, "spend_alert") == "teams"
    preferences.set_preferences(rita, {"spend_alert": "both", "milestone_submitted": "outlook"})
    assert preferences.channel_for(rita, "spend_alert") == "both"
    assert preferences.channel_for(rita, "milestone_submitted") == "outlook"
    assert preferences.channel_for(rita, "approval_request") == "teams"
    assert preferences.channel_for(people["max"], "spend_alert") == "teams"
    preferences.set_preferences(rita, {"spend_alert": "default"})
    assert preferences.channel_for(rita, "spend_alert") == "teams"


def test_a_wrong_default_channel_is_a_clear_policy_error(tmp_path):
    from gigbridge.program.policy import check_file

    bad = tmp_path / "program.yaml"
    bad.write_text(
        EXAMPLE_POLICY.read_text().replace("default_channel: outlook", "default_channel: slack")
    )
    (problem,) = check_file(bad)
    assert problem.path == "notifications.default_channel"
    assert problem.message == "must be one of outlook, teams, both (got 'slack')"


# -- routing ----------------------------------------------------------------------------------

SPEND = {
    "scope": "engagement",
    "kind": "engagement",
    "name": "ENG-7 Brand refresh",
    "threshold": 80,
    "spent": "3200.00",
    "budget": "4000.00",
    "over": "0",
    "currency": "EUR",
    "reference": "REQ-7",
    "title": "Brand refresh",
    "path": "/engagements/7/",
}


@pytest.mark.parametrize(
    ("choice", "configured", "teams_jobs", "mail_jobs"),
    [
        ("teams", True, 1, 0),
        ("outlook", True, 0, 1),
        ("both", True, 1, 1),
        ("teams", False, 0, 1),
        ("both", False, 0, 1),
    ],
)
def test_a_notice_goes_where_the_person_chose(
    people, teams, choice, configured, teams_jobs, mail_jobs
):
    teams.is_configured = configured
    rita = people["rita"]
    preferences.set_preferences(rita, {"spend_alert": choice})
    notices.mail(rita, "spend_alert", SPEND, key="engagement:80")
    assert len(jobs(notices.TEAMS_JOB)) == teams_jobs
    assert len(jobs(notices.MAIL_JOB)) == mail_jobs
    notices.mail(rita, "spend_alert", SPEND, key="engagement:80")  # the same notice again
    assert len(jobs(notices.TEAMS_JOB)) == teams_jobs
    assert len(jobs(notices.MAIL_JOB)) == mail_jobs
    deliver()
    assert len(teams.sent) == teams_jobs
    assert TeamsCard.objects.filter(user=rita).count() == teams_jobs


def test_a_person_teams_cannot_reach_gets_the_mail_once(people, teams, mailoutbox):
    rita = people["rita"]
    preferences.set_preferences(rita, {"spend_alert": "teams"})
    teams.unreachable.add(rita.email)
    notices.mail(rita, "spend_alert", SPEND, key="engagement:80")
    assert jobs(notices.MAIL_JOB) == []
    deliver()
    assert teams.sent == []
    assert [m.to for m in mailoutbox] == [[rita.email]]
    assert "Spend at 80%" in mailoutbox[0].subject
    # chose both: Teams failing sends no second mail
    preferences.set_preferences(rita, {"spend_alert": "both"})
    notices.mail(rita, "spend_alert", SPEND, key="engagement:100")
    deliver()
    assert len(mailoutbox) == 2


def test_mail_only_notices_and_freelancers_keep_mail(people, teams):
    preferences.set_preferences(people["audrey"], {"spend_alert": "teams"})
    notices.mail(people["audrey"], "audit_checkpoint", {"number": 1}, key="1")
    notices.mail_address("freya@freelancers.example", "agreements_to_sign", {}, key="x")
    assert len(jobs(notices.MAIL_JOB)) == 2
    assert jobs(notices.TEAMS_JOB) == []


# -- cards ------------------------------------------------------------------------------------


def test_notice_cards_show_names_amounts_with_currency_and_their_page(settings):
    card = cards.notice_card("spend_alert", SPEND)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    body = texts(card)
    assert "Spend at 80%: ENG-7 Brand refresh" in body
    assert "3,200.00 EUR" in body and "4,000.00 EUR" in body
    (action_set,) = [e for e in card["body"] if e["type"] == "ActionSet"]
    assert action_set["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open in Gigbridge",
            "url": settings.BASE_URL + "/engagements/7/",
        }
    ]
    milestone = cards.notice_card(
        "milestone_submitted",
        {
            "reference": "REQ-7",
            "title": "Brand refresh",
            "engagement_id": 7,
            "milestone_id": 3,
            "milestone": "Logo drafts",
        },
    )
    assert "Logo drafts" in texts(milestone)
    assert settings.BASE_URL + "/engagements/7/#milestone-3" in texts(milestone)
    expiring = cards.notice_card(
        "agreement_expiring",
        {
            "name": "NDA",
            "person": "Freya Freelance",
            "email": "freya@freelancers.example",
            "expires_on": "2027-01-31",
            "ends": "2027-03-01",
            "reference": "REQ-7",
            "title": "Brand refresh",
            "path": "/engagements/7/",
            "send_path": "/agreements/send/",
        },
    )
    assert "NDA of Freya Freelance expires 2027-01-31" in texts(expiring)


def test_the_approval_card_names_people_shows_money_and_has_the_three_decisions(people, teams):
    preferences.set_preferences(people["max"], {"approval_request": "teams"})
    request = submitted(people["rita"])
    deliver()
    (card,) = teams.cards_to("max@contoso.example")
    body = texts(card)
    assert "Approval needed: " + request.reference in body
    assert "Rita Requester" in body and "4,000.00 EUR" in body
    assert "CC-MKT" in body
    assert buttons(card) == [
        "approval.approve",
        "approval.reject",
        "approval.request_changes",
        "Action.OpenUrl",
    ]
    step = request.steps.get()
    for element in card["body"]:
        if element["type"] == "ActionSet":
            for action in element["actions"][:3]:
                assert action["type"] == "Action.Execute" and action["data"] == {"step": step.pk}
    (comment,) = [e for e in card["body"] if e["type"] == "Input.Text"]
    assert comment["id"] == "comment" and "required to reject" in comment["label"]
    assert TeamsCard.objects.get().subject == f"step:{step.pk}"
    assert jobs(notices.MAIL_JOB) == []  # max chose Teams only


# -- approvals from the card ------------------------------------------------------------------


@pytest.fixture
def asked(people, teams):
    """Rita's request waits for max, who reads approvals in Teams."""
    preferences.set_preferences(people["max"], {"approval_request": "teams"})
    request = submitted(people["rita"])
    deliver()
    return request, request.steps.get()


def test_approving_from_the_card_decides_audits_and_refreshes_the_card(people, teams, asked):
    request, step = asked
    card = press("approval.approve", step.pk, people["max"])
    step.refresh_from_db()
    request.refresh_from_db()
    assert step.state == ApprovalStep.State.APPROVED and step.decided_by == people["max"]
    assert request.state == WorkRequest.State.APPROVED
    event = AuditEvent.objects.get(action="approval.approve")
    assert event.after["via"] == "teams card"
    assert buttons(card) == ["Action.OpenUrl"]
    assert "Approved by Max Manager on " + clock.now().strftime("%Y-%m-%d") in texts(card)
    # the copy in max's chat is updated in place too
    deliver()
    ((conversation, activity_id, activity),) = teams.updates
    assert (conversation, activity_id) == ("a:max@contoso.example", "act-1")
    assert buttons(card_of(activity)) == ["Action.OpenUrl"]


def test_clicked_twice_the_second_changes_nothing_and_shows_who_decided(people, teams, asked):
    _, step = asked
    press("approval.reject", step.pk, people["max"], comment="Not this quarter")
    events = AuditEvent.objects.count()
    again = press("approval.approve", step.pk, people["max"])
    step.refresh_from_db()
    assert step.state == ApprovalStep.State.REJECTED
    assert AuditEvent.objects.count() == events
    assert "Rejected by Max Manager" in texts(again) and "Not this quarter" in texts(again)
    assert buttons(again) == ["Action.OpenUrl"]


def test_the_wrong_person_is_refused_and_nothing_changes(people, teams, asked, caplog):
    _, step = asked
    events = AuditEvent.objects.count()
    with caplog.at_level(logging.INFO, logger="gigbridge.security"):
        card = press("approval.approve", step.pk, people["paula"])
        stranger = press("approval.approve", step.pk, "mallory@outside.example")
    step.refresh_from_db()
    assert step.state == ApprovalStep.State.PENDING
    assert AuditEvent.objects.count() == events
    assert "You cannot decide this approval." in texts(card)
    assert "Gigbridge does not know you." in texts(stranger)
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert any("actor=paula" in line and "approvalstep:" in line for line in refusals)
    assert any("actor=teams:aad-mallory" in line for line in refusals)
    # the requester cannot approve her own request from a card either
    press("approval.approve", step.pk, people["rita"])
    step.refresh_from_db()
    assert step.state == ApprovalStep.State.PENDING


def test_reject_without_a_comment_shows_the_card_again_with_the_message(people, teams, asked):
    _, step = asked
    card = press("approval.reject", step.pk, people["max"])
    step.refresh_from_db()
    assert step.state == ApprovalStep.State.PENDING
    (comment,) = [e for e in card["body"] if e["type"] == "Input.Text"]
    assert comment["errorMessage"] == "say why, so the requester knows what to change"
    assert "approval.reject" in buttons(card)
    card = press("approval.request_changes", step.pk, people["max"], comment="Smaller scope")
    step.refresh_from_db()
    assert step.state == ApprovalStep.State.CHANGES_REQUESTED
    assert "Changes requested by Max Manager" in texts(card)


def test_every_copy_is_updated_after_a_web_decision(people, teams, frozen_now):
    """Max is away: his delegate paula gets the card too; max decides on the web."""
    set_delegation(
        people["max"], people["paula"], clock.today(), clock.today() + dt.timedelta(days=3)
    )
    for name in ("max", "paula"):
        preferences.set_preferences(people[name], {"approval_request": "both"})
    request = submitted(people["rita"])
    deliver()
    assert {to for to, _ in teams.sent} == {"max@contoso.example", "paula@contoso.example"}
    step = request.steps.get()
    web = Client()
    web.login(username="max", password=PASSWORD)
    response = web.post(f"/approvals/{step.pk}/", {"decision": "approve"})
    assert response.status_code in (200, 302), response.status_code
    step.refresh_from_db()
    assert step.state == ApprovalStep.State.APPROVED
    assert AuditEvent.objects.get(action="approval.approve").after["via"] == "web/api"
    deliver()
    assert {conv for conv, _, _ in teams.updates} == {
        "a:max@contoso.example",
        "a:paula@contoso.example",
    }
    for _, _, activity in teams.updates:
        assert "Approved by Max Manager" in texts(card_of(activity))


def test_a_withdrawn_request_closes_the_cards(people, teams, asked):
    request, step = asked
    actions.withdraw_request(people["rita"], request, "No longer needed")
    deliver()
    ((_, _, activity),) = teams.updates
    card = card_of(activity)
    assert "The requester withdrew the request." in texts(card)
    assert buttons(card) == ["Action.OpenUrl"]
    clicked = press("approval.approve", step.pk, people["max"])
    step.refresh_from_db()
    assert step.state == ApprovalStep.State.CANCELLED
    assert "withdrew" in texts(clicked)


# -- at most one card, and copies that are gone -----------------------------------------------


class Killed(Exception):
    """The worker died right after Teams answered, before the card was recorded."""


def retry_due_jobs() -> None:
    OutboxJob.objects.filter(state=OutboxJob.State.PENDING).update(
        next_attempt_at=clock.now(), claimed_until=None
    )
    deliver()


def test_a_worker_killed_after_teams_sent_the_card_sends_no_second_card(
    people, teams, mailoutbox, monkeypatch, caplog
):
    rita = people["rita"]
    preferences.set_preferences(rita, {"spend_alert": "teams"})
    real_send = teams.send_to_person

    def send_then_die(email, activity):
        real_send(email, activity)
        raise Killed

    monkeypatch.setattr(teams_client, "send_to_person", send_then_die)
    notices.mail(rita, "spend_alert", SPEND, key="engagement:80")
    deliver()
    assert TeamsCard.objects.get().state == TeamsCard.State.SENDING  # the intent, first
    monkeypatch.setattr(teams_client, "send_to_person", teams.send_to_person)
    with caplog.at_level(logging.WARNING):
        retry_due_jobs()
    assert len(teams.sent) == 1  # the copy the dead attempt sent, and no second card
    card = TeamsCard.objects.get()
    assert card.state == TeamsCard.State.UNKNOWN and card.activity_id == ""
    assert [m.to for m in mailoutbox] == [[rita.email]]  # told once, by mail instead
    assert "may have sent the card" in caplog.text
    retry_due_jobs()
    assert len(teams.sent) == 1 and len(mailoutbox) == 1


def test_throttled_nothing_was_sent_so_the_retry_sends_the_card(people, teams, monkeypatch):
    from gigbridge.integrations.teams.errors import RetryableTeamsError

    rita = people["rita"]
    preferences.set_preferences(rita, {"spend_alert": "teams"})
    answers = [RetryableTeamsError(429, "throttled", "", "POST", "v3/x", retry_after=1)]

    def throttled_once(email, activity):
        if answers:
            raise answers.pop()
        return teams.send_to_person(email, activity)

    monkeypatch.setattr(teams_client, "send_to_person", throttled_once)
    notices.mail(rita, "spend_alert", SPEND, key="engagement:80")
    deliver()
    assert not TeamsCard.objects.exists()  # Teams answered 429: no card, no intent left
    retry_due_jobs()
    assert len(teams.sent) == 1
    assert TeamsCard.objects.get().state == TeamsCard.State.SENT


def test_no_answer_may_have_sent_it_so_the_retry_mails_instead(
    people, teams, mailoutbox, monkeypatch
):
    from gigbridge.integrations.teams.errors import RetryableTeamsError

    rita = people["rita"]
    preferences.set_preferences(rita, {"spend_alert": "teams"})

    def timed_out(email, activity):
        raise RetryableTeamsError(None, "timeout", "TimeoutError", "POST", "v3/x")

    monkeypatch.setattr(teams_client, "send_to_person", timed_out)
    notices.mail(rita, "spend_alert", SPEND, key="engagement:80")
    deliver()
    monkeypatch.setattr(teams_client, "send_to_person", teams.send_to_person)
    retry_due_jobs()
    assert teams.sent == [] and TeamsCard.objects.get().state == TeamsCard.State.UNKNOWN
    assert [m.to for m in mailoutbox] == [[rita.email]]


def test_a_card_deleted_in_teams_is_marked_gone_and_its_refresh_is_done(
    people, teams, asked, monkeypatch
):
    from gigbridge.integrations.teams.errors import NotFound

    request, step = asked

    def deleted(conversation_id, activity_id, activity):
        raise NotFound(404, "NotFound", "The activity was deleted", "PUT", "v3/x")

    monkeypatch.setattr(teams_client, "update", deleted)
    actions.withdraw_request(people["rita"], request, "No longer needed")
    deliver()
    assert TeamsCard.objects.get().state == TeamsCard.State.GONE
    (refresh,) = jobs(notices.TEAMS_REFRESH_JOB)
    assert refresh.state == OutboxJob.State.DONE
    # a later refresh of a gone copy does not call Teams at all
    monkeypatch.setattr(teams_client, "update", teams.update)
    notices.refresh_cards(f"step:{step.pk}", "again")
    deliver()
    assert teams.updates == []


# -- the preferences page and API -------------------------------------------------------------


def test_the_profile_page_sets_the_preferences(people):
    web = Client()
    web.login(username="rita", password=PASSWORD)
    page = web.get("/me/")
    assert page.status_code == 200
    assert b"<title>Profile \xc2\xb7 Gigbridge</title>" in page.content  # the form is not in it
    assert page.content.count(b'id="notices"') == 1
    assert b'name="notice-spend_alert"' in page.content
    assert b"Program default (Outlook)" in page.content
    response = web.post(
        "/me/",
        {"what": "notices", "notice-spend_alert": "teams", "notice-approval_request": "both"},
    )
    assert response.status_code == 302
    assert preferences.channel_for(people["rita"], "spend_alert") == "teams"
    assert preferences.channel_for(people["rita"], "approval_request") == "both"
    assert preferences.channel_for(people["rita"], "milestone_submitted") == "outlook"
    page = web.get("/me/")
    assert b'<option value="teams" selected>Teams</option>' in page.content
    # CSRF is enforced like every other form
    strict = Client(enforce_csrf_checks=True)
    strict.login(username="rita", password=PASSWORD)
    assert strict.post("/me/", {"what": "notices"}).status_code == 403


def test_the_api_reads_and_sets_the_preferences(people, api):
    rita = api("rita")
    got = rita.get("/api/v1/me/notices").json()
    assert got["default_channel"] == "outlook"
    assert {p["kind"]: (p["channel"], p["chosen"]) for p in got["preferences"]}["spend_alert"] == (
        "outlook",
        False,
    )
    response = rita.patch(
        "/api/v1/me/notices",
        {"preferences": {"spend_alert": "both"}},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    kinds = {p["kind"]: (p["channel"], p["chosen"]) for p in response.json()["preferences"]}
    assert kinds["spend_alert"] == ("both", True)
    bad = rita.patch(
        "/api/v1/me/notices",
        {"preferences": {"spend_alert": "pigeon"}},
        content_type="application/json",
    )
    assert bad.status_code in (400, 422)
    unknown = rita.patch(
        "/api/v1/me/notices",
        {"preferences": {"gossip": "teams"}},
        content_type="application/json",
    )
    assert unknown.status_code in (400, 422)
    assert preferences.channel_for(people["rita"], "spend_alert") == "both"
    from gigbridge.api.main import api as ninja_api

    paths = ninja_api.get_openapi_schema()["paths"]
    assert set(paths["/api/v1/me/notices"]) == {"get", "patch"}
