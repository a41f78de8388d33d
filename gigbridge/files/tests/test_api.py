"""The deliverables API: an engagement's files, the quarantine, a release, with the pages'
permission checks and problem+json errors."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from gigbridge.files.models import Deliverable
from gigbridge.files.tests.records import deliverable, quarantined
from gigbridge.jobs.models import OutboxJob
from gigbridge.people.actions import create_api_token, grant_role
from gigbridge.people.models import Role
from gigbridge.sourcing.tests.test_marketplace import approved_engagement

pytestmark = pytest.mark.django_db


@pytest.fixture
def engagement(people):
    return approved_engagement(people)


PROBLEM = "application/problem+json"


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_engagement_lists_every_version_newest_first_with_words_and_sizes(
    api, engagement, frozen_now
):
    first = deliverable(engagement, size=812, deliverable_title="Logo")
    frozen_now(hours=2)
    second = deliverable(
        engagement, version="2.0", size=3_670_016, added_at=frozen_now.now(), planner_task_id="t1"
    )
    infected = quarantined(engagement, added_at=frozen_now(hours=1))
    answer = api("rita").get(f"/api/v1/engagements/{engagement.pk}/deliverables")
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 3
    rows = body["items"]
    assert [r["id"] for r in rows] == [infected.pk, second.pk, first.pk]
    newest_clean = rows[1]
    assert newest_clean["file"] == "logo.svg" and newest_clean["version"] == "2.0"
    assert newest_clean["size_text"] == "3.5 MB" and rows[2]["size_text"] == "812 bytes"
    assert newest_clean["author"] == "Ana Freelance"
    assert newest_clean["engagement"] == engagement.reference
    assert newest_clean["verdict_label"] == "clean" and newest_clean["blocked"] is False
    assert newest_clean["open_url"].startswith("https://contoso.sharepoint.example/")
    assert rows[2]["answers"] == "Logo"
    # The infected one is never offered to open.
    assert rows[0]["verdict"] == "infected" and rows[0]["signature"] == "Eicar-Test-Signature"
    assert rows[0]["blocked"] is True and rows[0]["open_url"] is None


def test_someone_who_cannot_see_the_engagement_gets_404(api, engagement):
    deliverable(engagement)
    answer = api("paula").get(f"/api/v1/engagements/{engagement.pk}/deliverables")
    assert answer.status_code == 404 and answer["content-type"] == PROBLEM


@pytest.mark.parametrize(("who", "status"), [("audrey", 200), ("ada", 200), ("rita", 403)])
def test_the_quarantine_is_for_security_reviewers_admins_and_auditors(api, engagement, who, status):
    quarantined(engagement)
    deliverable(engagement)  # clean: not in quarantine
    answer = api(who).get("/api/v1/deliverables/quarantined")
    assert answer.status_code == status
    if status == 200:
        assert [r["file"] for r in answer.json()["items"]] == ["invoice.exe"]
    else:
        assert answer["content-type"] == PROBLEM
        assert "security reviewer" in answer.json()["detail"]


def test_a_program_admin_releases_with_a_reason(api, engagement):
    file = quarantined(engagement)
    answer = post(api("ada"), f"/api/v1/deliverables/{file.pk}/release", {"reason": "Known FP"})
    assert answer.status_code == 202
    assert answer.json()["state"] == "releasing"
    assert answer.json()["release_reason"] == "Known FP"
    assert answer.json()["released_by"] == "Ada Admin"
    assert OutboxJob.objects.filter(kind="files.release").count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("rita", 403),  # the hiring manager sees the file but may not release it
        ("audrey", 403),  # a security reviewer sees it but may not release it
        ("paula", 404),  # sees neither the engagement nor the quarantine
    ],
)
def test_no_one_else_releases(api, engagement, who, status):
    file = quarantined(engagement)
    answer = post(api(who), f"/api/v1/deliverables/{file.pk}/release", {"reason": "fine"})
    assert answer.status_code == status and answer["content-type"] == PROBLEM
    file.refresh_from_db()
    assert file.state == Deliverable.State.QUARANTINED


def test_release_errors_are_problems_naming_what_is_wrong(api, engagement):
    file = quarantined(engagement)
    url = f"/api/v1/deliverables/{file.pk}/release"
    empty = post(api("ada"), url, {"reason": "  "})
    assert empty.status_code == 422 and empty["content-type"] == PROBLEM
    assert empty.json()["errors"][0]["field"] == "reason"
    assert post(api("ada"), url, {}).status_code == 422  # no reason at all
    assert post(api("ada"), url, {"reason": "ok", "force": True}).status_code == 422
    assert post(api("ada"), url, {"reason": "x" * 1001}).status_code == 422
    clean = deliverable(engagement)
    again = post(api("ada"), f"/api/v1/deliverables/{clean.pk}/release", {"reason": "ok"})
    assert again.status_code == 409 and "only a quarantined file" in again.json()["detail"]
    missing = post(api("ada"), "/api/v1/deliverables/999999/release", {"reason": "ok"})
    assert missing.status_code == 404


def test_anonymous_calls_are_401(client, engagement):
    file = quarantined(engagement)
    assert client.get("/api/v1/deliverables/quarantined").status_code == 401
    assert client.post(f"/api/v1/deliverables/{file.pk}/release").status_code == 401


def test_a_security_reviewer_alone_sees_the_quarantine_not_the_engagement(api, people, engagement):
    sam = get_user_model().objects.create_user("sam", email="sam@contoso.example")
    grant_role(sam, Role.SECURITY_REVIEWER)
    _, secret = create_api_token(sam, "tests")
    client = Client(headers={"authorization": f"Bearer {secret}"})
    file = quarantined(engagement)
    deliverable(engagement)  # clean: not his to see
    assert [r["id"] for r in client.get("/api/v1/deliverables/quarantined").json()["items"]] == [
        file.pk
    ]
    assert client.get(f"/api/v1/engagements/{engagement.pk}/deliverables").status_code == 404
    refused = post(client, f"/api/v1/deliverables/{file.pk}/release", {"reason": "fine"})
    assert refused.status_code == 403
    assert "only a program admin can release" in refused.json()["detail"]
