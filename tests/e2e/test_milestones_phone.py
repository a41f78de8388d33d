"""The milestones and weekly hours of the engagement page on a phone (390 px): the forms fit,
nothing widens the page, the CSP blocks nothing, and approving works from there."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from conftest import EXAMPLE_POLICY
from gigbridge import clock
from gigbridge.program.actions import activate_policy
from gigbridge.sourcing.models import Milestone, MilestoneDecision, TimeEntry
from gigbridge.sourcing.tests.test_marketplace import _contracted

from .conftest import sign_in
from .test_phone_browser import PHONE, fits, shots  # noqa: F401 - the screenshots' folder

pytestmark = pytest.mark.browser


def test_deciding_milestones_and_weeks_fits_a_phone(browser, live_server, people, shots):  # noqa: F811
    activate_policy(EXAMPLE_POLICY.read_text(), "program.yaml", actor="tests")
    engagement = _contracted(people)
    long = "Brand guide with every colour variant, typography scale and icon set " * 2
    design = Milestone.objects.create(
        engagement=engagement, upwork_id="m1", sequence=1, description="Logo concepts",
        amount=Decimal("2000.00"), state="SUBMITTED", submitted_at=clock.now(),
    )  # fmt: skip
    Milestone.objects.create(
        engagement=engagement, upwork_id="m2", sequence=2, description=long.strip(),
        state="NOT_FUNDED",
    )  # fmt: skip
    for day in ("2026-11-23", "2026-11-24", "2026-11-25", "2026-11-30"):
        TimeEntry.objects.create(
            engagement=engagement, contract_id="k1", date=dt.date.fromisoformat(day),
            hours=Decimal("7.5"), amount=Decimal("637.50"), synced_at=clock.now(),
        )  # fmt: skip

    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    try:
        sign_in(page, "rita")
        page.goto(f"/engagements/{engagement.pk}/#milestone-{design.pk}")
        item = page.locator(f"#milestone-{design.pk}")
        expect(item.get_by_label("Amount to pay (USD, at most 2,000.00)")).to_have_value("2000.00")
        expect(page.locator("#week-2026-11-23").get_by_role("button")).to_have_text("Approve week")
        fits(page, "engagement-milestones", shots)

        item.get_by_label("Amount to pay").fill("1500.00")
        item.get_by_role("button", name="Approve and pay").click()
        expect(page.get_by_role("status")).to_contain_text("Approved: 1,500.00 USD")
        assert page.url.endswith(f"#milestone-{design.pk}")
        expect(page.locator(f"#milestone-{design.pk}")).to_contain_text("On its way to Upwork.")
        page.locator("#week-2026-11-23").get_by_role("button", name="Approve week").click()
        expect(page.locator("#week-2026-11-23")).to_contain_text("approved by Rita Requester")
        fits(page, "engagement-milestones-decided", shots)
    finally:
        context.close()
    assert blocked == [], "the Content-Security-Policy blocked something"
    assert MilestoneDecision.objects.get().amount == Decimal("1500.00")
