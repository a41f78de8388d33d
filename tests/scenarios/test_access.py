"""Access that starts with the contract and ends with it, against the sandbox tenant."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conftest import request_payload
from gigbridge import clock
from gigbridge.access.models import Grant, ReconcileState
from gigbridge.audit.actions import verify
from gigbridge.engagements import actions
from gigbridge.engagements.models import Engagement
from gigbridge.program.models import CostCenter, Workspace

from .conftest import run_jobs
from .story import end_of_grace

pytestmark = [pytest.mark.django_db(transaction=True)]
FREELANCER = "freya@freelancers.example"


def create_team(graph, name: str, owner_upn: str) -> str:
    owner = graph.get_user(owner_upn)
    response = graph.request(
        "POST",
        "/teams",
        json={
            "template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
            "displayName": name,
            "description": f"{name} project",
            "members": [
                {
                    "@odata.type": "#microsoft.graph.aadUserConversationMember",
                    "roles": ["owner"],
                    "user@odata.bind": f"https://graph.microsoft.com/v1.0/users('{owner['id']}')",
                }
            ],
        },
    )
    assert response.status_code == 202
    team_id = response.headers["Content-Location"].split("'")[1]
    graph.get_json(f"/teams/{team_id}")  # provisioned
    return team_id


def contracted_engagement(people, workspace, freelancer: str = FREELANCER) -> Engagement:
    data = request_payload(sourcing="direct", freelancer_email=freelancer, freelancer_country="PT")
    data["cost_center"] = CostCenter.objects.get(code=data["cost_center"])
    data["start_date"] = dt.date.fromisoformat(data["start_date"])
    data["end_date"] = dt.date.fromisoformat(data["end_date"])
    data["workspace"] = workspace  # chosen on the request form
    request = actions.create_request(people["rita"], data)
    actions.submit_request(people["rita"], request)
    actions.decide(people["max"], request.steps.get(), "approve")
    engagement = Engagement.objects.get(request=request)
    return actions.transition_engagement(people["ada"], engagement, "contracted")


def agreements_signed_elsewhere(people, email: str, name: str) -> None:
    """Legal records the freelancer's NDA and MSA, signed on paper, as on the Agreements page
    (the product's action: no row a person could not make)."""
    from gigbridge.people.actions import record_agreement

    for agreement in ("NDA", "MSA"):
        record_agreement(
            people["lena"], email=email, name=agreement, signed_on=clock.today(), display_name=name
        )


def team_member(graph, team_id: str, user_id: str) -> dict | None:
    return next((m for m in graph.list_team_members(team_id) if m.get("userId") == user_id), None)


def test_contract_start_grants_and_contract_end_removes_every_grant(graph, people, http_mail):
    team_id = create_team(graph, "Spring campaign", "max@contoso.example")
    workspace = Workspace.objects.create(name="Spring campaign", team_id=team_id)
    engagement = contracted_engagement(people, workspace)
    earlier = len(http_mail())  # the sandbox tenant outlives a test: look at what this one adds

    def new_mail() -> list[dict]:  # newest first
        sent = http_mail()
        return sent[: len(sent) - earlier]

    run_jobs()

    guest = graph.find_user_by_mail(FREELANCER)
    assert guest is not None
    assert graph.get_user(guest["id"], select=["userType"])["userType"] == "Guest"
    membership = team_member(graph, team_id, guest["id"])
    assert membership is not None and membership["roles"] == ["guest"]
    kinds = set(engagement.grants.filter(state="applied").values_list("kind", flat=True))
    assert kinds == {"guest", "team_member", "welcome_mail", "manager_note"}
    sent = new_mail()
    assert {m["to"] for m in sent} >= {FREELANCER, "rita@contoso.example"}
    # The hiring manager's notice went through the outbox (her preference: the policy's
    # default, Outlook), mailed through Graph as every Outlook notice once a tenant is there.
    on_board = [
        m for m in sent if m["to"] == "rita@contoso.example" and "has access" in m["subject"]
    ]
    assert len(on_board) == 1 and engagement.reference in on_board[0]["subject"]

    from gigbridge.access.actions import reconcile

    assert reconcile(engagement.pk) == "0 granted, 0 revoked"

    # The contract ends; after the grace period every grant goes.
    engagement = actions.transition_engagement(people["ada"], engagement, "active")
    engagement = actions.transition_engagement(people["ada"], engagement, "offboarding")
    run_jobs()
    assert team_member(graph, team_id, guest["id"]) is not None  # still in grace
    clock.set_now(clock.now() + dt.timedelta(days=4))
    assert reconcile(engagement.pk) == "0 granted, 2 revoked"
    assert team_member(graph, team_id, guest["id"]) is None
    assert graph.find_user_by_mail(FREELANCER) is None  # remove_guest_on_end
    engagement.refresh_from_db()
    assert engagement.state == "closed"
    revoked = set(Grant.objects.filter(state="removed").values_list("kind", flat=True))
    assert revoked == {"guest", "team_member"}
    # Every grant gone: the hiring manager is told, once.
    assert reconcile(engagement.pk) == "0 granted, 0 revoked"
    run_jobs()
    removed = [m for m in new_mail() if m["subject"].startswith("Access removed")]
    assert [m["to"] for m in removed] == ["rita@contoso.example"]
    assert engagement.reference in removed[0]["subject"]
    assert verify().ok


@pytest.fixture
def http_mail(tenant, tenant_info):
    """Mail the sandbox tenant has sent, as a list of {to, subject}."""
    import base64

    import httpx

    from gigbridge.sandbox.client import ssl_context_from

    def fetch():
        auth = base64.b64encode(
            f"{tenant_info['client_id']}:{tenant_info['client_secret']}".encode()
        ).decode()
        with httpx.Client(verify=ssl_context_from(tenant_info["ca_cert"])) as client:
            body = client.get(
                f"{tenant.url}/_sandbox/mail", headers={"authorization": f"Basic {auth}"}
            ).json()
        return [
            {"to": r["emailAddress"]["address"], "subject": m["message"]["subject"]}
            for m in body["value"]
            for r in m["message"]["toRecipients"]
        ]

    return fetch


class Crash(Exception):
    pass


def test_a_crash_after_any_tenant_call_converges_with_one_invitation(graph, people, monkeypatch):
    """Kill the pass right after each tenant write in turn; every rerun repairs, none duplicates."""
    from gigbridge.access import reconciler as module
    from gigbridge.access.actions import reconcile
    from gigbridge.access.models import ReconcileState

    team_id = create_team(graph, "Crash test", "max@contoso.example")
    workspace = Workspace.objects.create(name="Crash test", team_id=team_id)
    engagement = contracted_engagement(people, workspace)
    invitations = []
    real_invite = graph.invite_guest
    monkeypatch.setattr(
        graph, "invite_guest", lambda *a, **k: invitations.append(a[0]) or real_invite(*a, **k)
    )
    real_granted = module.Reconciler._granted
    # crash after the 1st..4th write: guest, member, welcome mail (tenant), and the manager's
    # notice queued in the outbox (rolled back with the grant: queued again by the rerun)
    crashes = {"left": 4}

    def crashing_granted(self, *args, **kwargs):
        if crashes["left"] > 0:
            crashes["left"] -= 1
            raise Crash("worker killed between the tenant call and the database write")
        return real_granted(self, *args, **kwargs)

    monkeypatch.setattr(module.Reconciler, "_granted", crashing_granted)
    outcomes = []
    for _ in range(8):
        try:
            outcomes.append(reconcile(engagement.pk))
        except Crash:
            ReconcileState.objects.filter(engagement=engagement).update(running_until=None)
            continue
        if outcomes[-1] == "0 granted, 0 revoked":
            break
    assert invitations == [FREELANCER]
    guest = graph.find_user_by_mail(FREELANCER)
    members = [m for m in graph.list_team_members(team_id) if m.get("userId") == guest["id"]]
    assert len(members) == 1
    assert set(engagement.grants.values_list("kind", flat=True)) == {
        "guest",
        "team_member",
        "welcome_mail",
        "manager_note",
    }
    from gigbridge.jobs.models import OutboxJob

    queued = [j.payload.get("template") for j in OutboxJob.objects.filter(kind="mail.send")]
    assert queued.count("access_given") == 1  # the crashed pass queued nothing


def test_drift_is_found_and_removed_when_the_policy_says_so(graph, people, policy):
    from conftest import EXAMPLE_POLICY
    from gigbridge.access.review import review
    from gigbridge.program.actions import activate_policy

    team_id = create_team(graph, "Drift", "max@contoso.example")
    Workspace.objects.create(name="Drift", team_id=team_id)
    invited = graph.invite_guest("mallory@outside.example", "https://teams.microsoft.com")
    guest_id = invited["invitedUser"]["id"]
    graph.add_team_member(team_id, guest_id, roles=["guest"])

    rows = [r for r in review(graph) if r.drift]
    assert {(r.kind, r.guest) for r in rows} >= {
        ("guest", "mallory@outside.example"),
        ("team_member", "mallory@outside.example"),
    }
    assert team_member(graph, team_id, guest_id) is not None  # reported, not removed

    text = EXAMPLE_POLICY.read_text().replace("remove_drift: false", "remove_drift: true")
    activate_policy(text, "program.yaml", actor="tests")
    review(graph)
    assert team_member(graph, team_id, guest_id) is None
    assert graph.find_user_by_mail("mallory@outside.example") is None


def test_drift_removed_by_hand_leaves_the_review(graph, people, policy):
    from gigbridge.access.review import review
    from gigbridge.audit.models import AuditEvent

    team_id = create_team(graph, "Hand", "max@contoso.example")
    Workspace.objects.create(name="Hand", team_id=team_id)
    invited = graph.invite_guest("oscar@outside.example", "https://teams.microsoft.com")
    guest_id = invited["invitedUser"]["id"]
    graph.add_team_member(team_id, guest_id, roles=["guest"])
    assert {r.kind for r in review(graph) if r.drift and r.guest == "oscar@outside.example"} == {
        "guest",
        "team_member",
    }

    graph.delete_user(guest_id)  # an admin cleans up in the tenant, not in Gigbridge

    assert not [r for r in review(graph) if r.drift and r.guest == "oscar@outside.example"]
    resolved = AuditEvent.objects.filter(action="access.drift.resolved")
    assert {e.after["kind"] for e in resolved} == {"guest", "team_member"}
    assert verify().ok


def test_new_team_workspace_then_tasks_and_folder_share_come_and_go(graph, people, tenant_info):
    from gigbridge.access.actions import reconcile
    from gigbridge.access.workspaces import create_workspace

    workspace = create_workspace(people["ada"], "Website relaunch")
    run_jobs("access.workspace")
    workspace.refresh_from_db()
    assert workspace.ready and workspace.team_id and workspace.plan_id and workspace.folder_id
    assert graph.get_team(workspace.team_id)["displayName"] == "Website relaunch"

    engagement = contracted_engagement(people, workspace)
    run_jobs()
    grants = {g.kind: g for g in engagement.grants.filter(state="applied")}
    assert set(grants) == {
        "guest",
        "team_member",
        "planner_task",
        "folder_share",
        "welcome_mail",
        "manager_note",
    }
    assert engagement.grants.filter(kind="planner_task").count() == 2  # one per deliverable
    guest_id = grants["guest"].external_id
    task = graph.get_task(grants["planner_task"].external_id).body
    assert guest_id in task["assignments"]
    shares = graph.list_permissions(workspace.drive_id, workspace.folder_id)
    share = next(p for p in shares if p["id"] == grants["folder_share"].external_id)
    assert share["roles"] == ["write"]
    assert share["expirationDateTime"] == end_of_grace(engagement.contract_end)

    # Cancelled before its planned end: the share is cut back to today + grace at once, and
    # every grant goes when the grace ends.
    actions.transition_engagement(people["ada"], engagement, "cancelled", "budget cut")
    assert reconcile(engagement.pk) == "0 granted, 0 revoked, 1 shortened"
    assert share_expiry(graph, workspace, grants["folder_share"]) == end_of_grace(clock.today())
    move_clocks(tenant_info, days=4)
    # The share expired in the tenant on its own: counted as gone, not as revoked by the pass.
    assert reconcile(engagement.pk) == "0 granted, 4 revoked, 1 already gone"
    task_after = graph.get_task(grants["planner_task"].external_id).body
    assert guest_id not in (task_after.get("assignments") or {})  # unassigned, task kept
    shares = graph.list_permissions(workspace.drive_id, workspace.folder_id)
    assert grants["folder_share"].external_id not in {p["id"] for p in shares}
    assert graph.find_user_by_mail(FREELANCER) is None
    assert (
        not engagement.grants.filter(state="applied")
        .exclude(kind__in=["welcome_mail", "manager_note"])
        .exists()
    )


def share_expiry(graph, workspace, grant) -> str | None:
    shares = graph.list_permissions(workspace.drive_id, workspace.folder_id)
    return next((p["expirationDateTime"] for p in shares if p["id"] == grant.external_id), None)


def move_clocks(tenant_info, **delta) -> None:
    """Time passes for the product and for the tenant alike (one world time)."""
    from gigbridge.sandbox.tests.conftest import pin_sandbox_clock

    moment = clock.now() + dt.timedelta(**delta)
    clock.set_now(moment)
    pin_sandbox_clock(tenant_info, moment)


def test_an_early_end_shortens_the_share_at_once_and_grace_ends_every_grant(
    graph, people, tenant_info, client
):
    from gigbridge.access.actions import reconcile
    from gigbridge.access.review import granted_rows
    from gigbridge.access.workspaces import create_workspace
    from gigbridge.audit.models import AuditEvent

    workspace = create_workspace(people["ada"], "Early end")
    run_jobs("access.workspace")
    workspace.refresh_from_db()
    engagement = contracted_engagement(people, workspace)
    planned_end = engagement.contract_end
    run_jobs()
    state = ReconcileState.objects.get(engagement=engagement)
    # What the first pass really did: 5 grants made in the tenant (the guest, the Team, two
    # tasks, the share) and two mails, not "7 granted".
    assert state.last_outcome == "5 granted, 0 revoked, 2 mails sent"
    share = engagement.grants.get(kind="folder_share", state="applied")
    assert share_expiry(graph, workspace, share) == end_of_grace(planned_end)

    engagement = actions.transition_engagement(people["ada"], engagement, "active")
    run_jobs()
    move_clocks(tenant_info, days=10)
    ended_on = clock.today()
    assert ended_on < planned_end
    engagement = actions.transition_engagement(
        people["ada"], engagement, "offboarding", "the work is done early"
    )
    assert engagement.contract_end == ended_on
    run_jobs()  # the transition queued a pass: the expiry is shortened at once

    assert share_expiry(graph, workspace, share) == end_of_grace(ended_on)
    share.refresh_from_db()
    assert share.state == "applied"
    assert timezone.localdate(share.expires_at) == ended_on + dt.timedelta(days=3)
    shortened = AuditEvent.objects.get(action="access.folder_share.shortened")
    was = dt.datetime.fromisoformat(shortened.before["expires"])
    assert timezone.localdate(was) == planned_end + dt.timedelta(days=3)
    row = next(r for r in granted_rows() if r.kind == "folder_share")
    assert row.until == (ended_on + dt.timedelta(days=3)).isoformat()  # the review's new date
    assert row.on == 'folder "Freelance/Early end" of Team "Early end"'
    client.force_login(people["ada"])
    page = client.get("/access/").content.decode()
    assert (ended_on + dt.timedelta(days=3)).isoformat() in page
    assert "folder &quot;Freelance/Early end&quot; of Team &quot;Early end&quot;" in page
    assert workspace.team_id not in page and workspace.folder_id not in page  # names, not ids
    page = client.get(f"/engagements/{engagement.pk}/").content.decode()
    section = page[page.index('id="access-grants"') :]
    section = section[: section.index("</table>")]
    assert "Team &quot;Early end&quot;" in section
    assert "task &quot;" in section and f"({engagement.reference})&quot;" in section
    assert workspace.team_id not in section and workspace.folder_id not in section
    assert workspace.plan_id not in section
    timeline = page[page.index('class="timeline"') :]  # the sentences name places too
    assert "(Team &quot;Early end&quot;) for" in timeline

    # Level-triggered: a share someone extends in the tenant is cut back by the next pass.
    graph.invite_to_drive_item(
        workspace.drive_id,
        workspace.folder_id,
        FREELANCER,
        "write",
        dt.datetime.combine(planned_end, dt.time(12), dt.UTC),
        send_invitation=False,
    )
    assert reconcile(engagement.pk) == "0 granted, 0 revoked, 1 shortened"
    assert share_expiry(graph, workspace, share) == end_of_grace(ended_on)
    assert reconcile(engagement.pk) == "0 granted, 0 revoked"
    # A pass that died between the PATCH and its record: the next one records the tenant's date.
    Grant.objects.filter(pk=share.pk).update(
        expires_at=dt.datetime.combine(planned_end, dt.time(23, 59, 59), dt.UTC)
    )
    reconcile(engagement.pk)
    share.refresh_from_db()
    assert timezone.localdate(share.expires_at) == ended_on + dt.timedelta(days=3)

    move_clocks(tenant_info, days=3)  # the last day of grace: still there
    assert reconcile(engagement.pk) == "0 granted, 0 revoked"
    move_clocks(tenant_info, days=1)  # grace over
    assert share_expiry(graph, workspace, share) is None  # expired in the tenant too
    reconcile(engagement.pk)
    assert not (
        engagement.grants.filter(state="applied")
        .exclude(kind__in=["welcome_mail", "manager_note"])
        .exists()
    )
    assert graph.find_user_by_mail(FREELANCER) is None
    engagement.refresh_from_db()
    assert engagement.state == "closed"
    assert verify().ok


def test_a_blocked_domain_fails_with_the_reason_on_the_engagement(graph, people, client):
    from gigbridge.jobs.models import OutboxJob

    team_id = create_team(graph, "Blocked", "max@contoso.example")
    workspace = Workspace.objects.create(name="Blocked", team_id=team_id)
    agreements_signed_elsewhere(people, "bob@blocked.example", "Bob")
    engagement = contracted_engagement(people, workspace, "bob@blocked.example")

    run_jobs()

    job = OutboxJob.objects.get(kind="access.reconcile")
    assert job.state == "dead" and job.attempts == 1  # retrying cannot help
    assert "blocked" in job.last_error
    assert not engagement.grants.exists()
    assert graph.find_user_by_mail("bob@blocked.example") is None
    client.force_login(people["ada"])
    page = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert f'The access check of <a href="/engagements/{engagement.pk}/">' in page
    assert "is not allowed by" in page


def test_a_folder_that_no_longer_exists_holds_back_only_the_share(graph, people):
    from gigbridge.access.actions import reconcile
    from gigbridge.access.reconciler import AccessProblem
    from gigbridge.access.workspaces import create_workspace

    workspace = create_workspace(people["ada"], "Gone folder")
    run_jobs("access.workspace")
    workspace.refresh_from_db()
    Workspace.objects.filter(pk=workspace.pk).update(folder_id="01DELETEDFOLDER")
    engagement = contracted_engagement(people, workspace)

    with pytest.raises(AccessProblem, match="folder_share"):
        reconcile(engagement.pk)
    applied = set(engagement.grants.filter(state="applied").values_list("kind", flat=True))
    assert {"guest", "team_member", "planner_task"} <= applied
    assert "folder_share" not in applied
    state = ReconcileState.objects.get(engagement=engagement)
    assert state.last_outcome.startswith("failed: ") and "01DELETEDFOLDER" in state.last_outcome


def test_the_access_review_shows_every_grant_and_drift_on_web_api_and_cli(graph, people, api):
    import csv
    import io
    import json

    from django.core.management import call_command
    from django.test import Client

    team_id = create_team(graph, "Reviewed", "max@contoso.example")
    workspace = Workspace.objects.create(name="Reviewed", team_id=team_id)
    engagement = contracted_engagement(people, workspace)
    run_jobs()
    intruder = graph.invite_guest("trudy@outside.example", "https://teams.microsoft.com")
    graph.add_team_member(team_id, intruder["invitedUser"]["id"], roles=["guest"])

    out = io.StringIO()
    call_command("access", "review", "--format", "json", stdout=out)  # scans the tenant
    rows = json.loads(out.getvalue())
    mine = {(r["kind"], r["target"]) for r in rows if r["engagement"] == engagement.reference}
    assert ("team_member", team_id) in mine and ("guest", FREELANCER) in mine
    assert all(r["until"] for r in rows if r["engagement"] == engagement.reference)
    drift = {(r["kind"], r["guest"]) for r in rows if r["drift"]}
    assert ("team_member", "trudy@outside.example") in drift

    out = io.StringIO()
    call_command("access", "review", "--format", "csv", stdout=out)
    assert len(list(csv.DictReader(io.StringIO(out.getvalue())))) == len(rows)

    api_rows = api("audrey").get("/api/v1/access/review").json()
    assert {(r["kind"], r["guest"], r["drift"]) for r in api_rows} == {
        (r["kind"], r["guest"], r["drift"]) for r in rows
    }
    assert api("rita").get("/api/v1/access/review").status_code == 403

    browser = Client()
    browser.force_login(people["ada"])
    page = browser.get("/access/").content.decode()
    assert "trudy@outside.example" in page and engagement.reference in page
    browser.force_login(people["rita"])
    assert browser.get("/access/").status_code == 403


def test_a_folder_in_use_is_not_shared_with_another_engagements_freelancer(
    graph, people, tenant_info
):
    from gigbridge.access.actions import reconcile
    from gigbridge.access.reconciler import AccessProblem
    from gigbridge.access.workspaces import create_workspace

    workspace = create_workspace(people["ada"], "One folder")
    run_jobs("access.workspace")
    workspace.refresh_from_db()
    first = contracted_engagement(people, workspace)
    run_jobs()
    assert first.grants.filter(kind="folder_share", state="applied").exists()

    agreements_signed_elsewhere(people, "gus@freelancers.example", "Gus")
    second = contracted_engagement(people, workspace, "gus@freelancers.example")
    with pytest.raises(AccessProblem, match="access.share_folder_across_engagements"):
        reconcile(second.pk)
    applied = set(second.grants.filter(state="applied").values_list("kind", flat=True))
    assert {"guest", "team_member", "planner_task"} <= applied  # the rest goes ahead
    assert "folder_share" not in applied
    shared_with = {
        (p.get("invitation") or {}).get("email")
        for p in graph.list_permissions(workspace.drive_id, workspace.folder_id)
    }
    assert "gus@freelancers.example" not in shared_with
    state = ReconcileState.objects.get(engagement=second)
    assert first.reference in state.last_outcome

    # The first contract ends and its grace passes: the folder is free for the second.
    actions.transition_engagement(people["ada"], first, "cancelled", "moved to another team")
    move_clocks(tenant_info, days=4)
    reconcile(first.pk)
    assert reconcile(second.pk).startswith("1 granted")
    assert second.grants.filter(kind="folder_share", state="applied").exists()


def test_the_api_refuses_a_workspace_the_policy_does_not_allow_for_the_classification(
    graph, people, api
):
    from conftest import EXAMPLE_POLICY
    from gigbridge.program.actions import activate_policy

    Workspace.objects.create(name="Marketing", team_id="team-m")
    text = EXAMPLE_POLICY.read_text().replace(
        "access:\n", "access:\n  workspace_kinds:\n    confidential: [new_team]\n", 1
    )
    activate_policy(text, "program.yaml", actor="tests")
    body = request_payload(data_classification="confidential", workspace="Marketing")
    response = post_json(api("rita"), "/api/v1/requests", body)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "workspace"
    assert error["rule"] == "access.workspace_kinds.confidential"
    assert "a Team made for it" in error["message"]
    body["data_classification"] = "internal"
    assert post_json(api("rita"), "/api/v1/requests", body).status_code == 201


def post_json(client, path, body):
    import json

    return client.post(path, json.dumps(body), content_type="application/json")
