"""The hiring manager is told when access is given and when it is removed (notice kind
``access_changed``), on the channels they chose, once however passes crash and repeat.

The tenant is a small in-memory fake of the Graph calls the reconciler makes for a workspace
with a Team only; notices are counted as outbox jobs and delivered with the Teams transport
replaced by the recording fake of the notification tests."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import request_payload
from gigbridge import clock
from gigbridge.access import reconciler as module
from gigbridge.access.models import Grant
from gigbridge.access.reconciler import Reconciler, Settings
from gigbridge.engagements import actions
from gigbridge.engagements.models import Engagement
from gigbridge.integrations.msgraph.errors import NotFound
from gigbridge.integrations.teams import client as teams_client
from gigbridge.jobs.models import OutboxJob
from gigbridge.notifications import actions as notices
from gigbridge.notifications.tests.test_teams import FakeTeams, deliver, texts
from gigbridge.people import notices as preferences
from gigbridge.program.models import CostCenter, Workspace

pytestmark = pytest.mark.django_db
FREELANCER = "freya@freelancers.example"
TEAM = "team-spring"


class FakeGraph:
    def __init__(self) -> None:
        self.users: dict[str, str] = {}  # mail -> id
        self.members: dict[str, list[dict]] = {}
        self.mail: list[tuple[str, str]] = []

    def find_user_by_mail(self, email):
        user_id = self.users.get(email.lower())
        return {"id": user_id} if user_id else None

    def invite_guest(self, email, redirect_url, display_name="", message=""):
        self.users[email.lower()] = f"guest-{len(self.users) + 1}"
        return {"invitedUser": {"id": self.users[email.lower()]}}

    def delete_user(self, user_id):
        if user_id not in self.users.values():
            raise NotFound(404, "Request_ResourceNotFound", "gone", None, "DELETE", "/users")
        self.users = {m: i for m, i in self.users.items() if i != user_id}

    def list_team_members(self, team_id):
        return list(self.members.get(team_id, []))

    def add_team_member(self, team_id, user_id, roles):
        member = {"id": f"m-{user_id}", "userId": user_id, "roles": roles}
        self.members.setdefault(team_id, []).append(member)
        return member

    def remove_team_member(self, team_id, membership_id):
        before = self.members.get(team_id, [])
        self.members[team_id] = [m for m in before if m["id"] != membership_id]
        if len(self.members[team_id]) == len(before):
            raise NotFound(404, "NotFound", "gone", None, "DELETE", "/members")

    def send_mail(self, sender, to, subject, body):
        self.mail.append((to, subject))


class Crash(Exception):
    pass


@pytest.fixture
def tenant():
    return FakeGraph()


@pytest.fixture
def teams(monkeypatch):
    fake = FakeTeams()
    monkeypatch.setattr(teams_client, "configured", fake.configured)
    monkeypatch.setattr(teams_client, "send_to_person", fake.send_to_person)
    monkeypatch.setattr(teams_client, "update", fake.update)
    return fake


@pytest.fixture
def engagement(people):
    workspace = Workspace.objects.create(name="Spring campaign", team_id=TEAM)
    data = request_payload(sourcing="direct", freelancer_email=FREELANCER, freelancer_country="PT")
    data["cost_center"] = CostCenter.objects.get(code=data["cost_center"])
    data["start_date"] = dt.date.fromisoformat(data["start_date"])
    data["end_date"] = dt.date.fromisoformat(data["end_date"])
    data["workspace"] = workspace
    request = actions.create_request(people["rita"], data)
    actions.submit_request(people["rita"], request)
    actions.decide(people["max"], request.steps.get(), "approve")
    found = Engagement.objects.get(request=request)
    return actions.transition_engagement(people["ada"], found, "contracted")


def run_pass(tenant, engagement) -> str:
    engagement = Engagement.objects.get(pk=engagement.pk)
    return str(Reconciler(tenant, Settings("https://teams.example", "ada@x")).run(engagement))


def ended(people, engagement) -> Engagement:
    """The contract ends today; the clock moves past the grace days (3 in the example)."""
    engagement = actions.transition_engagement(people["ada"], engagement, "active")
    engagement = actions.transition_engagement(people["ada"], engagement, "offboarding")
    clock.set_now(clock.now() + dt.timedelta(days=4))
    return engagement


def notice_jobs(template: str) -> list[OutboxJob]:
    return [
        job
        for job in OutboxJob.objects.filter(kind__in=[notices.MAIL_JOB, notices.TEAMS_JOB])
        if job.payload.get("template") == template
    ]


def channels(template: str) -> list[str]:
    return sorted(
        "teams" if job.kind == notices.TEAMS_JOB else "outlook" for job in notice_jobs(template)
    )


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("teams", ["teams"]), ("outlook", ["outlook"]), ("both", ["outlook", "teams"])],
)
def test_the_manager_is_told_on_the_channels_they_chose(
    people, engagement, tenant, teams, mailoutbox, choice, expected
):
    rita = people["rita"]
    preferences.set_preferences(rita, {"access_changed": choice})
    assert run_pass(tenant, engagement) == "2 granted, 0 revoked, 2 mails sent"
    assert channels("access_given") == expected
    # The manager note no longer goes through Graph; the freelancer's welcome still does.
    assert [to for to, _ in tenant.mail] == [FREELANCER]
    deliver()
    given = f"Freya Freelance has access for {engagement.reference}"
    if "teams" in expected:
        (card,) = teams.cards_to(rita.email)
        body = texts(card)
        assert given.split(" has")[0] in body and engagement.reference in body
        assert 'Team membership: Team \\"Spring campaign\\"' in body
        (action_set,) = [e for e in card["body"] if e["type"] == "ActionSet"]
        assert action_set["actions"][0]["type"] == "Action.OpenUrl"
        assert action_set["actions"][0]["url"].endswith(f"/engagements/{engagement.pk}/")
    else:
        assert teams.sent == []
    mails = [m for m in mailoutbox if m.to == [rita.email] and "has access" in m.subject]
    assert len(mails) == (1 if "outlook" in expected else 0)
    if mails:
        assert engagement.reference in mails[0].subject and "has access" in mails[0].subject
        assert 'Team membership: Team "Spring campaign"' in mails[0].body
        assert f"/engagements/{engagement.pk}/" in mails[0].body


def _freelancer_name(engagement) -> str:
    return engagement.freelancer.display_name or engagement.freelancer.email


def test_access_removed_is_told_once_after_every_grant_is_gone(
    people, engagement, tenant, mailoutbox
):
    run_pass(tenant, engagement)
    engagement = ended(people, engagement)
    assert notice_jobs("access_removed") == []
    assert run_pass(tenant, engagement) == "0 granted, 2 revoked"
    assert Engagement.objects.get(pk=engagement.pk).state == "closed"
    assert channels("access_removed") == ["outlook"]  # the example policy's default
    assert run_pass(tenant, engagement) == "0 granted, 0 revoked"
    assert len(notice_jobs("access_removed")) == 1
    from gigbridge.audit.models import AuditEvent

    told = [e.action for e in AuditEvent.objects.order_by("seq") if (e.after or {}).get("notice")]
    assert told == ["access.manager_note.granted", "access.guest.revoked"]
    deliver()
    (mail,) = [m for m in mailoutbox if "Access removed" in m.subject]
    assert mail.to == [people["rita"].email]
    assert _freelancer_name(engagement) in mail.subject and engagement.reference in mail.subject
    assert 'Team membership: Team "Spring campaign"' in mail.body
    assert "- the guest account in your tenant\n" in mail.body


def test_no_removal_notice_while_access_is_still_due(people, engagement, tenant):
    run_pass(tenant, engagement)
    engagement = actions.transition_engagement(people["ada"], engagement, "active")
    actions.transition_engagement(people["ada"], engagement, "offboarding")
    assert run_pass(tenant, engagement) == "0 granted, 0 revoked"  # in grace
    assert notice_jobs("access_removed") == []


def test_a_crash_before_the_note_is_recorded_queues_nothing_and_the_retry_queues_one(
    people, engagement, tenant, monkeypatch
):
    real_mail = module.notices.mail
    crashes = {"left": 1}

    def mail_then_crash(*args, **kwargs):
        real_mail(*args, **kwargs)
        if crashes["left"]:
            crashes["left"] -= 1
            raise Crash("worker killed after queueing the notice, before the commit")

    monkeypatch.setattr(module.notices, "mail", mail_then_crash)
    with pytest.raises(Crash):
        run_pass(tenant, engagement)
    assert notice_jobs("access_given") == []  # rolled back with the grant's record
    assert not Grant.objects.filter(kind="manager_note").exists()
    assert run_pass(tenant, engagement) == "0 granted, 0 revoked, 1 mail sent"
    assert run_pass(tenant, engagement) == "0 granted, 0 revoked"
    assert len(notice_jobs("access_given")) == 1
    assert Grant.objects.get(kind="manager_note").external_id == "queued"


def test_a_crash_while_removing_the_last_grant_sends_one_removal_notice(
    people, engagement, tenant, monkeypatch
):
    run_pass(tenant, engagement)
    engagement = ended(people, engagement)
    real_mail = module.notices.mail
    crashes = {"left": 1}

    def mail_then_crash(*args, **kwargs):
        real_mail(*args, **kwargs)
        if crashes["left"]:
            crashes["left"] -= 1
            raise Crash("worker killed after queueing the notice, before the commit")

    monkeypatch.setattr(module.notices, "mail", mail_then_crash)
    with pytest.raises(Crash):
        run_pass(tenant, engagement)
    assert notice_jobs("access_removed") == []
    assert Grant.objects.get(kind="guest").state == "applied"  # deleted there, not recorded
    assert run_pass(tenant, engagement) == "0 granted, 0 revoked, 1 already gone"
    assert run_pass(tenant, engagement) == "0 granted, 0 revoked"
    assert len(notice_jobs("access_removed")) == 1


def test_a_note_left_sending_by_an_older_pass_is_not_sent_again(people, engagement, tenant):
    """A pass from before notices went through the outbox died while mailing through Graph."""
    run_pass(tenant, engagement)
    note = Grant.objects.get(kind="manager_note")
    Grant.objects.filter(pk=note.pk).update(state="sending")
    OutboxJob.objects.all().delete()
    assert run_pass(tenant, engagement) == "0 granted, 0 revoked, 1 already in place"
    assert notice_jobs("access_given") == []
    assert Grant.objects.get(pk=note.pk).external_id == "unconfirmed"


def test_a_kept_guest_account_is_named_in_the_removal_notice(
    people, engagement, tenant, mailoutbox
):
    from conftest import EXAMPLE_POLICY
    from gigbridge.program.actions import activate_policy

    run_pass(tenant, engagement)
    text = EXAMPLE_POLICY.read_text().replace(
        "remove_guest_on_end: true", "remove_guest_on_end: false"
    )
    activate_policy(text, "program.yaml", actor="tests")
    engagement = ended(people, engagement)
    run_pass(tenant, engagement)
    deliver()
    (mail,) = [m for m in mailoutbox if "Access removed" in m.subject]
    assert "the guest account stays in your tenant: the program's policy keeps" in mail.body


def test_the_access_cards_without_places_and_with_a_kept_account(settings):
    from gigbridge.notifications import cards

    facts = {
        "engagement_id": 7,
        "reference": "EN-000007",
        "title": "Brand refresh",
        "freelancer": "Freya Freelance",
        "freelancer_email": FREELANCER,
        "contract_end": "2027-03-01",
        "grace_days": 3,
    }
    given = cards.notice_card("access_given", {**facts, "places": [], "until": "2027-03-04"})
    assert "a guest account in your tenant." in texts(given)
    assert "2027-03-04" in texts(given)
    removed = cards.notice_card(
        "access_removed",
        {**facts, "places": [], "removed_on": "2027-03-05", "account_kept": "kept by policy"},
    )
    assert "the guest account stays in your tenant: kept by policy" in texts(removed)
    assert cards.summary("access_removed", facts | {"removed_on": "2027-03-05"}).startswith(
        "Access removed: Freya Freelance, EN-000007"
    )
    (action_set,) = [e for e in removed["body"] if e["type"] == "ActionSet"]
    assert action_set["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open the engagement",
            "url": settings.BASE_URL + "/engagements/7/",
        }
    ]
