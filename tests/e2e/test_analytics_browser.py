"""The dashboard in a browser: Chart.js draws every chart from its JSON block under the CSP,
the filter form makes a shareable link, and at 390 px nothing widens the page (each table
scrolls in its own box)."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from gigbridge.analytics.tests import fakes

from .conftest import sign_in, watch_csp
from .test_phone_browser import PHONE

pytestmark = pytest.mark.browser
fake_tables = fakes.fake_tables  # the fixture: small known tables
SHOTS = os.environ.get("GIGBRIDGE_SCREENSHOTS", "")  # a folder for screenshots, if set


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, PHONE])
def test_dashboard_draws_charts_filters_and_fits(
    browser, live_server, people, fake_tables, viewport
):
    context = browser.new_context(viewport=viewport, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    blocked = watch_csp(page)
    try:
        sign_in(page, "ada")
        page.goto("/analytics/")
        expect(page.get_by_role("heading", name="Spend per project category")).to_be_visible()
        # Chart.js took every canvas (a chart instance per canvas, drawn with a size).
        page.wait_for_function(
            "[...document.querySelectorAll('canvas[data-chart]')]"
            ".every(c => window.Chart && Chart.getChart(c) && c.width > 0)"
        )
        assert page.locator("canvas[data-chart]").count() == 2
        table = page.get_by_role("table", name="Spend per project category")
        expect(table.get_by_role("cell", name="1,234.50 EUR")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"the dashboard is {width} px wide"

        page.get_by_label("Task category").select_option("design")
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(re.compile(r"task_category=design"))
        expect(table.get_by_role("rowheader", name="design")).to_be_visible()
        expect(table.get_by_role("rowheader", name="software-development")).to_have_count(0)
        csv_link = page.locator("#table-spend-by-category").get_by_role("link", name="CSV")
        assert "task_category=design" in csv_link.get_attribute("href")
        assert blocked == [], blocked
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/analytics-{viewport['width']}.png", full_page=True)
    finally:
        context.close()
