"""Web pages through Django's test client: forms, decision links, permissions."""

import datetime as dt
import re

import pytest
from django.core import mail

from gigbridge import clock
from gigbridge.engagements.models import ApprovalStep, WorkRequest
from gigbridge.engagements.tests.test_approvals import deliver_mail, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client, people):
    def as_user(username):
        client.force_login(people[username])
        return client

    return as_user


def form_data(**overrides):
    start = clock.today() + dt.timedelta(days=14)
    data = {
        "title": "Data cleanup",
        "description": "Tidy the CRM",
        "deliverables": "Report\nScript",
        "skills": "python, sql",
        "task_category": "data-analysis",
        "worker_category": "freelancer",
        "cost_center": "CC-DATA",
        "pricing": "hourly",
        "budget": "3000",
        "currency": "EUR",
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=30)).isoformat(),
        "data_classification": "internal",
        "sourcing": "marketplace",
    }
    data.update(overrides)
    return data


def test_new_request_form_saves_and_submits(login):
    client = login("rita")
    response = client.post("/requests/new/", form_data(submit="1"))
    request = WorkRequest.objects.get()
    assert response.status_code == 302 and response["location"] == f"/requests/{request.pk}/"
    assert request.state == "in_approval"
    assert request.deliverables == ["Report", "Script"] and request.skills == ["python", "sql"]
    page = client.get(f"/requests/{request.pk}/").content.decode()
    name = request.requester.get_full_name()
    assert f'{name} submitted <a href="/requests/{request.pk}/">{request.reference}</a>' in page
    assert "the policy asked manager" in page


def test_form_shows_policy_errors_next_to_the_field(login):
    client = login("rita")
    response = client.post("/requests/new/", form_data(budget="500000"))
    assert response.status_code == 200
    assert "cost_centers.CC-DATA.annual_budget" in response.content.decode()
    assert not WorkRequest.objects.exists()


def decision_token(username="max"):
    deliver_mail()
    message = next(m for m in mail.outbox if m.to == [f"{username}@contoso.example"])
    return re.search(r"/a/([^/\s]+)/", message.body).group(1)


def test_mailed_link_works_once(people, login):
    request = submitted(people["rita"])
    token = decision_token()
    client = login("max")
    assert client.get(f"/a/{token}/").status_code == 200
    response = client.post(f"/a/{token}/", {"decision": "approve", "comment": ""})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == "approved"
    reused = client.get(f"/a/{token}/")
    assert reused.status_code == 400 and "already used" in reused.content.decode()


def test_forged_expired_and_foreign_links_change_nothing(people, login, frozen_now, caplog):
    request = submitted(people["rita"])
    token = decision_token()
    forged = login("max").get(f"/a/{token[:-2]}xx/")
    assert forged.status_code == 400 and "not valid" in forged.content.decode()
    foreign = login("paula").post(f"/a/{token}/", {"decision": "approve"})
    assert foreign.status_code == 400 and "someone else" in foreign.content.decode()
    frozen_now(days=8)
    expired = login("max").post(f"/a/{token}/", {"decision": "approve"})
    assert expired.status_code == 400 and "expired" in expired.content.decode()
    step = request.steps.get()
    assert step.state == ApprovalStep.State.PENDING
    refusals = [r.getMessage() for r in caplog.records if r.name == "gigbridge.security"]
    assert len(refusals) == 3 and "actor=paula" in refusals[1] and "someone else" in refusals[1]
    assert not any(token[:20] in line for line in refusals)  # the link stays out of the log


def test_link_needs_sign_in_first(people, client):
    submitted(people["rita"])
    token = decision_token()
    response = client.get(f"/a/{token}/")
    assert response.status_code == 302 and response["location"].startswith("/login/?next=/a/")


def test_deciding_someone_elses_step_in_the_web_is_404_unseen_and_403_seen(people, login):
    from gigbridge.engagements import actions

    request = submitted(people["rita"], budget="6000")
    step = request.steps.get(role="manager")
    # Paula (procurement) is not asked until the manager approves: the step does not exist to her.
    assert login("paula").get(f"/approvals/{step.pk}/").status_code == 404
    assert login("paula").post(f"/approvals/{step.pk}/", {"decision": "approve"}).status_code == 404
    step.refresh_from_db()
    assert step.state == "pending"
    # Lena (legal) is never asked for an internal request.
    actions.decide(people["max"], step, "approve")
    assert login("lena").get(f"/approvals/{step.pk}/").status_code == 404
    # Asked now, Paula sees the request, but the manager's step is not hers to decide.
    other = request.steps.get(role="procurement")
    response = login("paula").post(f"/approvals/{step.pk}/", {"decision": "reject", "comment": "x"})
    assert response.status_code == 403
    assert login("paula").get(f"/approvals/{other.pk}/").status_code == 200


def test_csrf_is_enforced_on_forms(people):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(people["rita"])
    assert client.post("/requests/new/", form_data()).status_code == 403


def test_pages_render_for_their_audience(people, login):
    submitted(people["rita"])
    for url in ["/requests/", "/requests/new/", "/approvals/", "/engagements/", "/policy/", "/me/"]:
        assert login("rita").get(url).status_code == 200, url
    assert login("rita").get("/audit/").status_code == 403
    audit = login("audrey").get("/audit/?verify=1")
    assert audit.status_code == 200 and "Chain intact" in audit.content.decode()


def test_healthz_reports_database_worker_and_queue(client, people):
    submitted(people["rita"])
    body = client.get("/healthz").json()
    assert body["database"]["ok"] is True
    assert body["queue"]["depth"] == 1
    assert body["worker"]["ok"] is False and body["status"] == "degraded"
    from gigbridge.jobs.worker import beat

    beat("w1", clock.now())
    assert client.get("/healthz").json()["status"] == "ok"
