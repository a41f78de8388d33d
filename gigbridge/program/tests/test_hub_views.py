"""The hub in the web: everyone signed in reads it; only a program admin edits the introduction
(with a preview, audited) and asks for its publication to SharePoint."""

from __future__ import annotations

import pytest
from django.test import Client

from gigbridge.audit.models import AuditEvent
from gigbridge.jobs.models import OutboxJob
from gigbridge.program.models import HubIntro, HubPublication

pytestmark = pytest.mark.django_db

SITE = "contoso.sharepoint.example,11111111-1111-1111-1111-111111111111,2222"


def signed_in(people, username: str) -> Client:
    client = Client()
    client.force_login(people[username])
    return client


def test_everyone_signed_in_reads_the_hub(people):
    page = signed_in(people, "rita").get("/hub/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Contoso Freelance Pilot" in body and "Who approves what, and why" in body
    assert "Edit the introduction" not in body and "Publish to SharePoint" not in body
    approvals = signed_in(people, "audrey").get("/hub/approvals/").content.decode()
    assert "5,000.00 EUR or more" in approvals
    budgets = signed_in(people, "rita").get("/hub/budgets/").content.decode()
    assert "Carol Owner (carol.owner@contoso.example)" in budgets  # a name from people
    assert signed_in(people, "rita").get("/hub/nothing-here/").status_code == 404
    assert Client().get("/hub/").status_code == 302  # to sign-in


def test_only_a_program_admin_edits_the_introduction(people):
    for username in ("rita", "audrey", "paula"):
        client = signed_in(people, username)
        assert client.get("/hub/edit/").status_code == 403
        assert client.post("/hub/edit/", {"markdown": "x", "save": "1"}).status_code == 403
    assert not HubIntro.objects.exists()


def test_preview_then_save_sanitised_and_audited(people):
    ada = signed_in(people, "ada")
    hostile = "# Welcome\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2))"
    preview = ada.post("/hub/edit/", {"markdown": hostile, "preview": "1"})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "<h1>Welcome</h1>" in html and "<script>alert" not in html
    assert 'href="javascript' not in html
    assert not HubIntro.objects.exists()  # a preview stores nothing
    saved = ada.post("/hub/edit/", {"markdown": hostile, "save": "1"})
    assert saved.status_code == 302
    assert HubIntro.objects.get().markdown == hostile
    assert AuditEvent.objects.filter(action="hub.intro_edited").count() == 1
    shown = signed_in(people, "rita").get("/hub/").content.decode()
    assert "<h1>Welcome</h1>" in shown and "<script>alert" not in shown


def test_too_long_an_introduction_is_refused_with_a_message(people):
    answer = signed_in(people, "ada").post("/hub/edit/", {"markdown": "a" * 20_001, "save": "1"})
    assert answer.status_code == 400
    assert "20,001 characters; at most 20,000 fit" in answer.content.decode()


def test_edit_needs_csrf(people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["ada"])
    assert client.post("/hub/edit/", {"markdown": "x", "save": "1"}).status_code == 403
    assert client.post("/hub/publish/").status_code == 403


def test_publish_without_a_site_says_how_to_set_it(people, settings):
    settings.HUB = {**settings.HUB, "site_id": None}
    ada = signed_in(people, "ada")
    page = ada.get("/hub/").content.decode()
    assert "GIGBRIDGE_HUB_SITE_ID" in page
    answer = ada.post("/hub/publish/", follow=True)
    assert "set GIGBRIDGE_HUB_SITE_ID" in answer.content.decode()
    assert not HubPublication.objects.exists()


def test_publish_is_queued_for_a_program_admin_only(
    people, settings, django_capture_on_commit_callbacks
):
    settings.HUB = {**settings.HUB, "site_id": SITE}
    assert signed_in(people, "rita").post("/hub/publish/").status_code == 403
    assert signed_in(people, "rita").get("/hub/publish/").status_code in (403, 405)
    with django_capture_on_commit_callbacks():
        answer = signed_in(people, "ada").post("/hub/publish/")
    assert answer.status_code == 302
    row = HubPublication.objects.get()
    assert row.state == "queued" and row.revision == 1 and row.site_id == SITE
    keys = [s["key"] for s in row.sections]
    assert keys[0] == "how-to-engage" and "faq" in keys
    assert "5,000.00 EUR or more" in " ".join(s["html"] for s in row.sections)
    assert OutboxJob.objects.filter(kind="program.hub.publish").count() == 1
    assert AuditEvent.objects.filter(action="hub.publish_requested").count() == 1
    page = signed_in(people, "ada").get("/hub/").content.decode()
    assert "Publishing to SharePoint" in page


def test_without_a_policy_the_hub_says_so(db, django_user_model):
    user = django_user_model.objects.create_user("newcomer", password="x" * 20)
    client = Client()
    client.force_login(user)
    page = client.get("/hub/")
    assert page.status_code == 200 and "no policy yet" in page.content.decode()
    assert client.get("/hub/approvals/").status_code == 404


def test_the_published_html_is_sanitised_too(people):
    from gigbridge.program import actions
    from gigbridge.program.views import sharepoint_sections

    hostile = "Hi <script>x()</script> [a](javascript:y())"
    sections = sharepoint_sections(actions.current()[1], {}, hostile)
    assert sections[0]["key"] == "introduction"
    html = " ".join(s["html"] for s in sections)
    assert "<script>" not in html and 'href="javascript' not in html
    assert "<h2>Who approves what, and why</h2>" in html and "North Korea" in html
