"""The hiring manager ends a direct hire's contract on a phone: the section fits 390 px, nothing
is chosen or ticked for them, an unticked box is refused with the reason, and the end shows."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from gigbridge.engagements.models import Engagement
from gigbridge.sourcing.tests.test_ending import direct_hire

from .conftest import sign_in, watch_csp
from .test_phone_browser import PHONE

pytestmark = pytest.mark.browser


def test_end_the_contract_of_a_direct_hire_on_a_phone(browser, live_server, people):
    engagement = direct_hire(people, state="active")
    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    blocked = watch_csp(page)
    try:
        sign_in(page, "rita")
        page.goto(f"/engagements/{engagement.pk}/")
        section = page.locator("#end-contract")
        expect(section.get_by_role("heading", name="End the contract")).to_be_visible()
        # A direct hire: no proposals, offer or milestones to show.
        expect(page.locator("#proposals")).to_have_count(0)
        expect(page.locator("#offers")).to_have_count(0)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the engagement page is {width} px wide"
        confirm = section.get_by_label("I am sure")
        expect(confirm).not_to_be_checked()
        expect(section.get_by_label("Reason")).to_have_value("")

        section.get_by_label("Reason").select_option(label="Work completed")
        section.get_by_label("Feedback for the freelancer").fill("Thank you, lovely work.")
        section.get_by_role("button", name="End contract").click()
        expect(page.get_by_role("alert")).to_contain_text("tick “I am sure”")
        assert Engagement.objects.get(pk=engagement.pk).state == Engagement.State.ACTIVE

        section = page.locator("#end-contract")
        section.get_by_label("Reason").select_option(label="Work completed")
        section.get_by_label("I am sure").check()
        section.get_by_role("button", name="End contract").click()
        expect(page.get_by_role("status")).to_contain_text("offboarding started")
        expect(page.locator("#contract-ended")).to_contain_text("work completed")
        expect(page.locator("#engagement-state")).to_have_text("Offboarding")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
    finally:
        context.close()
    assert blocked == [], "the Content-Security-Policy blocked something"
