"""The pages of deliverables: the engagement page's "Deliverables" section and the quarantine
page with its release form. Rows are written as the files app records them."""

from __future__ import annotations

import re

import pytest

from gigbridge.files.models import Deliverable
from gigbridge.files.tests.records import deliverable, quarantined
from gigbridge.jobs.models import OutboxJob
from gigbridge.sourcing.tests.test_marketplace import approved_engagement

pytestmark = pytest.mark.django_db


@pytest.fixture
def engagement(people):
    return approved_engagement(people)


@pytest.fixture
def login(client, people):
    def as_user(username):
        client.force_login(people[username])
        return client

    return as_user


def text_of(html: str) -> str:
    """The page's words, tags and repeated spaces removed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


def test_the_engagement_page_lists_each_version_with_names_sizes_dates_and_verdicts(
    login, engagement, frozen_now
):
    deliverable(engagement, size=14_540, deliverable_title="Logo", planner_task_id="task-1")
    frozen_now(minutes=30)
    deliverable(engagement, name="guide.pdf", size=3_670_016, added_at=frozen_now.now())
    quarantined(engagement, added_at=frozen_now(minutes=5), size=68)
    html = login("rita").get(f"/engagements/{engagement.pk}/").content.decode()
    part = section(html, "deliverables")
    words = text_of(part)
    assert "logo.svg version 1.0 · 14.2 KB · Brand refresh" in words
    assert "14.2 KB" in words and "3.5 MB" in words and "68 bytes" in words
    assert "Ana Freelance" in words and "guest-1" not in part  # names, not ids
    assert "2026-12-01 09:00" in words and "2026-12-01 09:30" in words
    assert "Logo (Planner task)" in words
    # Clean: a link to open it; infected: words, no link.
    assert 'href="https://contoso.sharepoint.example/sites/brand/logo.svg"' in part
    assert "infected (Eicar-Test-Signature), quarantined" in words
    assert "invoice.exe" in part and "sites/brand/invoice.exe" not in part
    assert "Not available: out of reach" in words
    rows = re.findall(r'<tr id="deliverable-(\d+)"', part)
    assert len(rows) == 3  # newest first
    assert part.index("invoice.exe") < part.index("guide.pdf") < part.index("logo.svg")


def test_a_pending_or_unscannable_file_says_so_in_words(login, engagement):
    deliverable(engagement, verdict=Deliverable.Verdict.PENDING, sha256="", scanned_at=None)
    deliverable(
        engagement,
        name="film.mov",
        size=3 * 1024**3,
        verdict=Deliverable.Verdict.TOO_LARGE,
        state=Deliverable.State.QUARANTINING,
        quarantine_error="no quarantine group is configured (GIGBRIDGE_QUARANTINE_GROUP_ID)",
    )
    words = text_of(section(login("rita").get(f"/engagements/{engagement.pk}/").content.decode(),
                            "deliverables"))  # fmt: skip
    assert "not scanned yet" in words
    assert "not scanned: too large, being quarantined" in words and "3.00 GB" in words
    assert "no quarantine group is configured" in words


def test_an_engagement_without_files_says_so(login, engagement):
    html = login("rita").get(f"/engagements/{engagement.pk}/").content.decode()
    assert "No files from the freelancer yet." in section(html, "deliverables")


def test_the_quarantine_page_for_a_security_reviewer_reads_without_a_release_form(
    login, engagement
):
    quarantined(engagement, sha256="cd" * 32, restored_version_id="1.0", version="2.0")
    deliverable(engagement, name="clean.txt")
    answer = login("audrey").get("/deliverables/quarantine/")
    assert answer.status_code == 200
    html = answer.content.decode()
    words = text_of(html)
    assert "invoice.exe version 2.0" in words and "clean.txt" not in words
    assert f"{engagement.reference} · {engagement.request.title}" in words
    assert "Ana Freelance (ana@freelance.example)" in words
    assert "Eicar-Test-Signature" in words and "cd" * 32 in words
    assert "version 1.0 is current in the folder again" in words
    assert "<form" not in html.split('id="quarantine"')[1]
    assert 'href="/deliverables/quarantine/"' in html  # the menu names the page for her


@pytest.mark.parametrize("who", ["rita", "paula"])
def test_others_are_refused_the_quarantine_page_and_not_shown_the_link(login, engagement, who):
    quarantined(engagement)
    assert login(who).get("/deliverables/quarantine/").status_code == 403
    assert "/deliverables/quarantine/" not in login(who).get("/").content.decode()


def test_a_program_admin_releases_with_a_reason(login, engagement):
    file = quarantined(engagement)
    client = login("ada")
    html = client.get("/deliverables/quarantine/").content.decode()
    assert f'action="/deliverables/{file.pk}/release/"' in html
    assert 'name="reason"' in html and "required" in html
    answer = client.post(f"/deliverables/{file.pk}/release/", {"reason": "Our own installer"})
    assert answer.status_code == 302 and answer["location"] == "/deliverables/quarantine/"
    file.refresh_from_db()
    assert file.state == Deliverable.State.RELEASING
    assert file.release_reason == "Our own installer"
    assert OutboxJob.objects.filter(kind="files.release").count() == 1
    page = text_of(client.get("/deliverables/quarantine/").content.decode())
    assert "“invoice.exe” (version 1.0) is released" in page


def test_a_release_without_a_reason_shows_the_page_again_with_the_error_at_the_form(
    login, engagement
):
    file = quarantined(engagement)
    typed = "x" * 1001
    answer = login("ada").post(f"/deliverables/{file.pk}/release/", {"reason": typed})
    assert answer.status_code == 400
    html = answer.content.decode()
    assert f'id="release-{file.pk}-error"' in html and "at most 1000" in html
    assert typed in html  # what was typed is kept
    answer = login("ada").post(f"/deliverables/{file.pk}/release/", {"reason": ""})
    assert "say why this file may go back to the project folder" in answer.content.decode()
    file.refresh_from_db()
    assert file.state == Deliverable.State.QUARANTINED
    assert not OutboxJob.objects.filter(kind="files.release").exists()


def test_a_release_by_someone_else_is_refused(login, engagement):
    file = quarantined(engagement)
    assert (
        login("audrey").post(f"/deliverables/{file.pk}/release/", {"reason": "x"}).status_code
        == 403
    )
    assert (
        login("paula").post(f"/deliverables/{file.pk}/release/", {"reason": "x"}).status_code == 404
    )
    file.refresh_from_db()
    assert file.state == Deliverable.State.QUARANTINED


def test_a_refused_release_of_a_file_on_another_page_is_said_above_the_list(
    login, engagement, frozen_now
):
    oldest = quarantined(engagement, name="old.exe", item_id="old")
    for n in range(25):  # a full first page of newer files
        quarantined(
            engagement, name=f"new-{n}.exe", item_id=f"new-{n}", added_at=frozen_now(minutes=1)
        )
    answer = login("ada").post(f"/deliverables/{oldest.pk}/release/", {"reason": ""})
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "old.exe” not released: say why this file may go back" in html
    assert 'role="alert" class="flash error"' in html
