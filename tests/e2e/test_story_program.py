"""The program seen from above, in Chromium, from an empty product (tests/scenarios/story.py
says what a story may use): the program manager reads the dashboard, filters it and exports a
table as CSV; an employee reads the program hub; and, on an installation with no policy at all,
the first admin answers the set-up wizard and the product starts with that policy.

The engagement behind the numbers is made by the demo people through the REST API
(tests/scenarios/api_story.py): a marketplace contract in Marketing (CC-MKT, design), and a
second request in Engineering still waiting for its approvers.
"""

from __future__ import annotations

import csv
import io
import re

import pycountry
import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from gigbridge.program import wizard_code
from tests.scenarios.api_story import contracted_on_the_marketplace
from tests.scenarios.files_story import apis
from tests.scenarios.story import own_sandbox  # noqa: F401 - a fixture

from .conftest import watch_csp
from .story_pages import WIDTHS
from .story_steps import persons, world  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

WORKSPACE = "Brand refresh"


def a_second_request_waiting(api, start: str, end: str) -> None:
    """rita asks Engineering for a developer; the request waits for its approvers."""
    draft = api["rita"].post(
        "/requests",
        {
            "title": "Data pipeline hardening",
            "description": "Retries and alerts for the nightly loads.",
            "deliverables": ["Runbook"],
            "skills": ["python"],
            "task_category": "software-development",
            "cost_center": "CC-ENG",
            "pricing": "hourly",
            "budget": "4000.00",
            "currency": "EUR",
            "start_date": start,
            "end_date": end,
            "data_classification": "internal",
            "sourcing": "marketplace",
        },
        status=201,
    )
    assert api["rita"].post(f"/requests/{draft['id']}/submit")["state"] == "in_approval"


def kpi(page, label: str):
    return page.locator("#kpi-cards li", has_text=label).locator(".kpi-value")


def test_the_program_manager_filters_the_dashboard_and_exports_it(
    world,  # noqa: F811 - a fixture
    persons,  # noqa: F811 - a fixture
    tmp_path,
):
    api = apis(world, "ada", "rita", "max", "paula", "lena")
    hired = contracted_on_the_marketplace(world, api, WORKSPACE, base_url=settings.BASE_URL)
    a_second_request_waiting(api, hired.start.isoformat(), hired.end.isoformat())
    world.work()
    market = api["rita"].get(f"/engagements/{hired.engagement_id}/marketplace")
    country = pycountry.countries.get(
        alpha_2=next(p for p in market["proposals"] if p["picked"])["country"]
    )

    # ada (the program manager) lands on her home, and goes from there to the dashboard.
    ada = persons.signed_in("ada", "/")
    glance = ada.get_by_role("region", name="Program at a glance")
    glance.get_by_role("link", name="Open the program analytics dashboard").click()
    expect(ada.get_by_role("heading", name="Program analytics", level=1)).to_be_visible()
    ada.wait_for_function(
        "[...document.querySelectorAll('canvas[data-chart]')]"
        ".every(c => window.Chart && Chart.getChart(c) && c.width > 0)"
    )
    expect(kpi(ada, "Requests")).to_have_text("2")
    persons.shoot(ada, "dashboard")

    # Only Marketing: one request, engaged.
    ada.locator("#f-cost-center").select_option("CC-MKT")  # its label also names a section
    ada.get_by_role("button", name="Show").click()
    expect(ada).to_have_url(re.compile(r"cost_center=CC-MKT"))
    expect(kpi(ada, "Requests")).to_have_text("1")
    spend = ada.get_by_role("table", name="Spend by task category")
    # Committed: the accepted offer of 3,000 USD at the policy's rate of 0.92; nothing paid yet.
    expect(spend.get_by_role("row", name=re.compile("^design"))).to_contain_text("2,760.00 EUR")
    expect(spend.get_by_role("rowheader", name=re.compile("software", re.I))).to_have_count(0)
    # The freelancer's country, as her marketplace profile gives it (she signed the agreements,
    # and so was known to the program, before she was picked).
    countries = ada.get_by_role("table", name="Freelancer countries")
    expect(countries.get_by_role("rowheader", name=country.name)).to_be_visible()
    persons.shoot(ada, "dashboard-marketing")

    # The same table as CSV, with the same filter.
    section = ada.locator("#table-spend-by-category")
    with ada.expect_download() as download:
        section.get_by_role("link", name="CSV").click()
    saved = tmp_path / "spend.csv"
    download.value.save_as(saved)
    assert "spend-by-category" in download.value.suggested_filename
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert [r["task_category"] for r in rows] == ["design"], rows
    assert rows[0]["engagements"] == "1" and rows[0]["currency"] == "EUR", rows
    assert rows[0]["committed"] == "2760.00" and rows[0]["paid"] == "0.00", rows

    # rita, an employee, reads in the program hub who approves what.
    rita = persons.signed_in("rita", "/hub/")
    expect(rita.get_by_role("heading", level=1)).to_have_text("Contoso Freelance Pilot")
    rita.get_by_role("link", name="Who approves what, and why").first.click()
    expect(rita.get_by_text(re.compile(r"5,000\.00 EUR")).first).to_be_visible()
    persons.shoot(rita, "hub-approvals")
    assert persons.too_wide == [], persons.too_wide


def test_the_first_admin_sets_up_an_empty_installation(browser, live_server, settings, tmp_path):
    # `gigbridge init` on a new installation, with no terminal: no policy, a set-up code.
    settings.DATA_DIR = tmp_path
    settings.POLICY_FILE = tmp_path / "program.yaml"
    out = io.StringIO()
    call_command("init", stdout=out, stderr=out)
    code = wizard_code.read_code(tmp_path)
    assert code in out.getvalue() and not settings.POLICY_FILE.exists()

    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": WIDTHS[1366]}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    blocked = watch_csp(page)
    try:
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/setup/$"))
        page.get_by_label("Set-up code").fill(code)
        page.get_by_label("Username").fill("priya")
        page.get_by_label("First name").fill("Priya")
        page.get_by_label("Last name").fill("Program")
        page.get_by_label("Email").fill("priya@acme.example")
        page.get_by_label("Password", exact=True).fill("a long and unusual passphrase 7")
        page.get_by_label("Password again").fill("a long and unusual passphrase 7")
        page.get_by_role("button", name="Create the admin account").click()

        expect(page.get_by_role("heading", name="Define the program")).to_be_visible()
        page.get_by_label("Program name").fill("Acme Freelance Program")
        page.get_by_label("Code", exact=True).first.fill("CC-WEB")
        page.get_by_label("Name", exact=True).first.fill("Web team")
        page.get_by_label("Annual budget").first.fill("90000")
        page.get_by_label("Owner's email").first.fill("priya@acme.example")
        page.screenshot(path=str(tmp_path / "setup-questions.png"), full_page=True)
        page.get_by_role("button", name="Review the policy").click()

        expect(page.get_by_role("button", name="Start the program")).to_be_visible()
        expect(page.get_by_text("Acme Freelance Program").first).to_be_visible()
        page.get_by_role("button", name="Start the program").click()
        expect(page).to_have_url(re.compile(r"/$"))
        # The product runs on that policy: the hub explains it, the set-up is closed.
        page.goto("/hub/budgets/")
        expect(page.get_by_text("Web team").first).to_be_visible()
        expect(page.get_by_text(re.compile(r"90,000\.00 EUR")).first).to_be_visible()
        assert page.goto("/setup/").status == 404
        assert blocked == [], blocked
    finally:
        context.close()
    assert settings.POLICY_FILE.exists()
    assert "Acme Freelance Program" in settings.POLICY_FILE.read_text()
