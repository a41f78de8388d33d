"""Deliverables on the engagement page and the quarantine page, on a phone (390 px) and a
laptop (1366 px): nothing widens the page, the CSP blocks nothing, and a program admin releases
a file from the phone (refused without a reason first)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from gigbridge.files.models import Deliverable
from gigbridge.files.tests import records
from gigbridge.sourcing.tests.test_marketplace import approved_engagement

from .conftest import sign_in
from .test_phone_browser import DESKTOP, PHONE, fits, shots  # noqa: F401 - the screenshots' folder

pytestmark = pytest.mark.browser

LONG = "Brand_guide_with_every_colour_variant_typography_scale_and_icon_set_FINAL_v3.pdf"


def csp_watcher(blocked: list[str]):
    def watch(message) -> None:
        if "Content Security" in message.text:
            blocked.append(message.text)

    return watch


def test_deliverables_and_the_quarantine_fit_a_phone(browser, live_server, people, shots):  # noqa: F811
    engagement = approved_engagement(people)
    records.deliverable(engagement, deliverable_title="Logo", planner_task_id="task-1")
    records.deliverable(engagement, name=LONG, size=48_000_000, folder_path="Brand refresh/"
                        "Deliverables for the spring campaign/Round 2")  # fmt: skip
    file = records.quarantined(engagement, sha256="e3" * 32)

    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        context.set_default_timeout(10_000)
        page = context.new_page()
        blocked: list[str] = []
        page.on("console", csp_watcher(blocked))
        try:
            sign_in(page, "rita")
            page.goto(f"/engagements/{engagement.pk}/#deliverables")
            section = page.locator("#deliverables")
            expect(section).to_contain_text("infected (Eicar-Test-Signature), quarantined")
            expect(section.get_by_role("link", name="Open in SharePoint")).to_have_count(2)
            if name == "phone":
                fits(page, "engagement-deliverables", shots)
                section.screenshot(path=str(shots / "phone-deliverables-section.png"))
            else:
                page.screenshot(path=str(shots / "desktop-engagement-deliverables.png"),
                                full_page=True)  # fmt: skip
        finally:
            context.close()
        assert blocked == [], "the Content-Security-Policy blocked something"

        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            sign_in(page, "ada")
            page.goto("/deliverables/quarantine/")
            item = page.locator(f"#deliverable-{file.pk}")
            expect(item).to_contain_text("Eicar-Test-Signature")
            if name == "phone":
                fits(page, "quarantine", shots)
                item.get_by_role("button", name="Release to the folder").click()
                expect(page.locator(f"#release-{file.pk}-error")).to_contain_text("say why")
                page.locator(f"#deliverable-{file.pk}").get_by_label("Why is it safe").fill(
                    "Our own installer, checked by hand"
                )
                page.get_by_role("button", name="Release to the folder").click()
                expect(page.get_by_role("status")).to_contain_text("is released")
                fits(page, "quarantine-released", shots)
            else:
                page.screenshot(path=str(shots / "desktop-quarantine.png"), full_page=True)
        finally:
            context.close()
    file.refresh_from_db()
    assert file.state == Deliverable.State.RELEASING
