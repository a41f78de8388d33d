"""A person chooses where their notices reach them, on a phone: the section fits 390 px, each
kind shows the program default until chosen, and the choice is kept."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from gigbridge.people import notices

from .conftest import sign_in, watch_csp
from .test_phone_browser import PHONE

pytestmark = pytest.mark.browser


def test_notice_preferences_on_a_phone(browser, live_server, people):
    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    blocked = watch_csp(page)
    try:
        sign_in(page, "max")
        page.goto("/me/")
        section = page.locator("#notices")
        expect(section.get_by_role("heading", name="Where your notices reach you")).to_be_visible()
        approvals = section.get_by_label("Approval requests, reminders and escalations")
        expect(approvals).to_have_value("default")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the profile page is {width} px wide"

        approvals.select_option(label="Teams")
        section.get_by_label("Spend alerts").select_option(label="Teams and Outlook")
        section.get_by_role("button", name="Save notice preferences").click()
        expect(page.get_by_role("status")).to_contain_text("Notice preferences saved")
        expect(page.locator("#notices").get_by_label("Spend alerts")).to_have_value("both")
        assert notices.channel_for(people["max"], "approval_request") == "teams"
        assert notices.channel_for(people["max"], "milestone_submitted") == "outlook"
    finally:
        context.close()
    assert blocked == [], "the Content-Security-Policy blocked something"
