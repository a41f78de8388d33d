"""The program hub in a browser: an employee reads it on a phone (nothing widens the page, no
CSP violation); the program admin writes the introduction, previews it and saves it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import open_menu, sign_in, sign_out, watch_csp

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shots(settings) -> Path:
    folder = Path(os.environ.get("GIGBRIDGE_SCREENSHOTS") or settings.DATA_DIR / "screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_employee_reads_the_hub_and_admin_writes_its_introduction(
    browser, live_server, people, shots
):
    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    violations = watch_csp(page)
    try:
        sign_in(page, "ada")
        page.goto("/hub/")
        page.get_by_role("link", name="Edit the introduction").click()
        page.get_by_label("Introduction").fill(
            "## Welcome\n\nAsk **Ada** first. <script>alert(1)</script>"
        )
        page.get_by_role("button", name="Preview").click()
        preview = page.get_by_role("region", name="Preview")
        expect(preview.get_by_role("heading", name="Welcome")).to_be_visible()
        expect(preview).to_contain_text("<script>alert(1)</script>")  # shown as text
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
        sign_out(page)

        sign_in(page, "rita")
        open_menu(page)
        page.get_by_role("link", name="Program hub").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Contoso Freelance Pilot")
        expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
        expect(page.get_by_role("button", name="Publish to SharePoint")).to_have_count(0)
        page.get_by_role("link", name="Who approves what, and why").click()
        expect(page.locator("main")).to_contain_text("For requests of 5,000.00 EUR or more")
        width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(shots / "phone-hub-approvals.png"), full_page=True)
        assert width <= PHONE["width"], f"the hub is {width} px wide on a phone"
        page.get_by_role("link", name="Questions and answers").click()
        page.get_by_text("Can I hire someone from any country?").click()
        expect(page.locator("main")).to_contain_text("North Korea")
    finally:
        context.close()
    assert violations == [], violations
