"""Onboarding under a 429/503 storm converges, with nothing lost and nothing done twice."""

from __future__ import annotations

import logging

import httpx
import pytest

from gigbridge import clock
from gigbridge.access.actions import reconcile
from gigbridge.access.models import ReconcileState
from gigbridge.integrations.msgraph.errors import RetryableGraphError
from gigbridge.program.models import Workspace
from gigbridge.sandbox.graph.testing import sent_mail, set_clock, set_dials
from gigbridge.sandbox.tests.conftest import ssl_context_from

from .conftest import run_jobs
from .test_access import FREELANCER, contracted_engagement, create_team

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def control(tenant, tenant_info):
    with httpx.Client(verify=ssl_context_from(tenant_info["ca_cert"]), timeout=10) as http:
        yield http
        set_dials(
            http,
            tenant_info,
            throttle=None,
            faults={"error_rate": 0.0, "latency_ms": 0, "seed": None},
        )


def test_a_storm_of_429s_and_503s_converges_without_duplicates(
    graph, people, control, tenant_info, monkeypatch, caplog
):
    def welcome_mails() -> int:  # the sandbox tenant outlives a test: count what this one adds
        mail = sent_mail(control, tenant_info, to=FREELANCER)
        return len([m for m in mail if "Welcome" in m["message"]["subject"]])

    welcomed_before = welcome_mails()
    team_id = create_team(graph, "Storm", "max@contoso.example")
    workspace = Workspace.objects.create(name="Storm", team_id=team_id)
    engagement = contracted_engagement(people, workspace)
    invitations = []
    real_invite = graph.invite_guest
    monkeypatch.setattr(
        graph, "invite_guest", lambda *a, **k: invitations.append(a[0]) or real_invite(*a, **k)
    )
    # Retry-After is honoured on the sandbox's clock: the test moves it on instead of waiting.
    graph.sleep = lambda seconds: set_clock(control, tenant_info, advance_seconds=seconds)
    set_dials(
        control,
        tenant_info,
        throttle={"rate": 5, "burst": 3},
        faults={"error_rate": 0.35, "seed": 7, "retry_after": 1},
    )

    caplog.set_level(logging.INFO, logger="gigbridge.integrations.msgraph")
    for _ in range(60):
        try:
            if reconcile(engagement.pk) == "0 granted, 0 revoked":
                break
        except RetryableGraphError:
            # The outbox would retry this job later; here: at once.
            ReconcileState.objects.filter(engagement=engagement).update(running_until=None)
    else:
        pytest.fail("did not converge in 60 passes")
    # The storm reached the client (seeded 503s, 429s from the small bucket). Whether the
    # client's retries absorb it or a pass fails and is repeated depends on how fast the
    # machine runs against the bucket; either way the result must be the same.
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("graph ")]
    assert {"429", "503"} & {line.split()[3] for line in lines}, "the storm missed the client"

    set_dials(control, tenant_info, throttle=None, faults={"error_rate": 0.0})
    assert len(invitations) == len(set(invitations)) <= 1
    guest = graph.find_user_by_mail(FREELANCER)
    members = [m for m in graph.list_team_members(team_id) if m.get("userId") == guest["id"]]
    assert len(members) == 1
    assert welcome_mails() == welcomed_before + 1


def test_an_unreachable_tenant_shows_on_health_and_the_work_resumes(graph, people, tenant, client):
    from gigbridge.jobs.models import OutboxJob
    from gigbridge.web import health

    health._tenant_cache.clear()  # another test's answer (another tenant, or none) is not ours
    team_id = create_team(graph, "Outage", "max@contoso.example")
    workspace = Workspace.objects.create(name="Outage", team_id=team_id)
    graph.tokens.token()  # a cached token: the outage must show all the same
    tenant.stop()
    try:
        engagement = contracted_engagement(people, workspace)
        run_jobs(rounds=1)
        job = OutboxJob.objects.get(kind="access.reconcile")
        assert job.state == "pending" and job.attempts == 1 and job.last_error.startswith("Graph ")
        body = client.get("/healthz").json()
        tenant_state = body["integrations"]["microsoft365"]
        assert body["status"] == "degraded" and tenant_state["ok"] is False
        # The reconcile pass and the approval mails (Outlook through Graph) all wait.
        waiting = OutboxJob.objects.filter(state="pending", attempts=1)
        assert tenant_state["waiting_jobs"] == waiting.count() >= 2
        assert "no response" in tenant_state["detail"]
    finally:
        tenant.start()
        health._tenant_cache.clear()
    OutboxJob.objects.update(next_attempt_at=clock.now())  # their retries are due
    run_jobs()
    assert set(OutboxJob.objects.values_list("state", flat=True)) == {"done"}  # nothing lost
    kinds = set(engagement.grants.filter(state="applied").values_list("kind", flat=True))
    assert {"guest", "team_member", "welcome_mail", "manager_note"} <= kinds
    assert client.get("/healthz").json()["integrations"]["microsoft365"]["ok"] is True
