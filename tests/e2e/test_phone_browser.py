"""Approvers on a phone: the mail link → sign-in → decision flow and the pages around it fit a
390 px screen (nothing widens the page; tables scroll inside their own box)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from gigbridge.engagements import actions
from gigbridge.engagements.tests.test_approvals import pending, submitted

from .conftest import menu_button, sign_in, sign_out

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def fits(page: Page, name: str, shots: Path) -> None:
    page.screenshot(path=str(shots / f"phone-{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width} px wide on a {PHONE['width']} px phone"


@pytest.fixture
def shots(settings) -> Path:
    folder = Path(os.environ.get("GIGBRIDGE_SCREENSHOTS") or settings.DATA_DIR / "screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_mail_link_sign_in_and_decision_fit_a_phone(
    browser, live_server, base_url, people, deliver_mail, shots
):
    # A request with a long title, deliverables and a multi-stage chain: the widest pages.
    request = submitted(
        people["rita"],
        title="Quarterly supplier-risk dashboard with automated extraction pipelines " * 2,
        budget="60000",
    )
    actions.decide(people["max"], pending(request)[0], "approve", "Looks right to me")
    mails = deliver_mail()
    to_paula = next(m for m in mails if "paula@contoso.example" in m.to)
    link = re.search(r"https?://\S+/a/[^/\s]+/", to_paula.body).group(0)

    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    try:
        page.goto(link)  # the mail link first asks to sign in, then comes back to the decision
        sign_in(page, "paula")
        expect(page.get_by_role("heading", level=1)).to_contain_text(request.reference)
        radios = page.get_by_role("radio")
        expect(radios).to_have_count(3)
        for radio in radios.all():
            expect(radio).not_to_be_checked()  # no decision is pre-selected
        fits(page, "decision", shots)

        page.get_by_role("radio", name="Approve").check()
        page.get_by_role("button", name="Record decision").click()
        expect(page.get_by_role("status")).to_contain_text("Decision recorded")

        page.goto("/approvals/")
        fits(page, "approvals", shots)
        sign_out(page)

        sign_in(page, "rita")
        page.goto("/requests/")
        fits(page, "request-list", shots)
        page.goto(f"/requests/{request.pk}/")
        expect(page.locator(".sentence").first).to_be_visible()
        fits(page, "request", shots)
        sign_out(page)

        # An engagement: a direct hire approved by its one approver.
        direct = submitted(
            people["rita"],
            sourcing="direct",
            freelancer_email="freya.long-address-for-wrapping@freelancers.example",
            freelancer_country="PT",
        )
        for step in pending(direct):
            actions.decide(step.assignee or people["paula"], step, "approve")
        direct.refresh_from_db()
        sign_in(page, "ada")
        page.goto("/engagements/")
        fits(page, "engagement-list", shots)
        page.goto(f"/engagements/{direct.engagement.pk}/")
        expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
        fits(page, "engagement", shots)
        page.goto("/audit/")
        fits(page, "audit", shots)
    finally:
        context.close()
    assert blocked == [], "the Content-Security-Policy blocked something"


def test_the_navigation_folds_behind_menu_on_a_phone_and_the_key_pages_fit(
    browser, live_server, people, shots
):
    import datetime as dt

    from gigbridge import clock
    from gigbridge.people.actions import record_agreement

    # A direct hire with a long address, engaged; legal recorded the freelancer's agreements,
    # the NDA expiring before the contract ends (the engagement page flags it).
    email = "freya.long-address-for-wrapping@freelancers.example"
    direct = submitted(
        people["rita"],
        title="Quarterly supplier-risk dashboard with automated extraction pipelines",
        sourcing="direct",
        freelancer_email=email,
        freelancer_country="PT",
    )
    for step in pending(direct):
        actions.decide(step.assignee or people["paula"], step, "approve")
    direct.refresh_from_db()
    today = clock.today()
    record_agreement(
        people["lena"],
        email=email,
        name="NDA",
        signed_on=today,
        expires_on=direct.start_date + dt.timedelta(days=3),
        evidence_url="https://documents.example/agreements/freelancers/" + "x" * 120,
    )
    record_agreement(people["lena"], email=email, name="MSA", signed_on=today)

    context = browser.new_context(viewport=PHONE, has_touch=True, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    try:
        sign_in(page, "ada")
        nav = page.get_by_role("navigation", name="Main")
        expect(nav).to_be_visible()
        button = menu_button(page)
        expect(button).to_be_visible()
        expect(button).to_have_text("Menu")
        for name in ("Requests", "Engagements", "Agreements", "Access"):
            expect(nav.get_by_role("link", name=name)).to_be_hidden()  # folded
        fits(page, "menu-closed", shots)

        button.tap()
        expect(nav.get_by_role("link", name="Requests")).to_be_visible()
        expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
        fits(page, "menu-open", shots)
        button.tap()  # and closes again
        expect(nav.get_by_role("link", name="Requests")).to_be_hidden()

        button.tap()
        nav.get_by_role("link", name="Engagements").tap()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Engagements")
        expect(nav.get_by_role("link", name="Engagements")).to_be_hidden()  # a new page: folded

        for path, name in [
            ("/requests/", "requests"),
            (f"/requests/{direct.pk}/", "request-with-workspace"),
            (f"/engagements/{direct.engagement.pk}/", "engagement-agreements-expiring"),
            ("/agreements/", "agreements"),
            ("/access/", "access-review"),
            ("/workspaces/", "workspaces"),
        ]:
            page.goto(path)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            fits(page, name, shots)
        page.goto(f"/engagements/{direct.engagement.pk}/")
        expect(page.locator("#agreements-expiring")).to_contain_text("NDA")

        # Wider than a phone the links show in a row and the button goes.
        page.set_viewport_size(DESKTOP)
        expect(button).to_be_hidden()
        for name in ("Requests", "Engagements", "Agreements", "Access"):
            expect(nav.get_by_role("link", name=name)).to_be_visible()
        expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
        page.screenshot(path=str(shots / "desktop-engagement.png"), full_page=True)
        sign_out(page)
    finally:
        context.close()
    assert blocked == [], "the Content-Security-Policy blocked something"
