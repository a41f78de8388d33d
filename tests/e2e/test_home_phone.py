"""The homes and the header's search on a 390 px phone: the box is there without opening the
menu, works from the keyboard, and no page is wider than the screen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from gigbridge.engagements import actions
from gigbridge.engagements.tests.test_approvals import pending, submitted

from .conftest import sign_in, sign_out

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shots(settings) -> Path:
    folder = Path(os.environ.get("GIGBRIDGE_SCREENSHOTS") or settings.DATA_DIR / "screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def fits(page, name: str, shots: Path) -> None:
    page.screenshot(path=str(shots / f"phone-home-{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a 390 px phone"


def test_homes_and_search_fit_a_phone_and_search_works_from_the_keyboard(page, people, shots):
    long = "Quarterly supplier-risk dashboard with automated extraction pipelines " * 2
    request = submitted(people["rita"], title=long, budget="6000")
    direct = submitted(
        people["rita"],
        title="Direct hire",
        sourcing="direct",
        freelancer_email="freya.long-address-for-wrapping@freelancers.example",
        freelancer_country="PT",
    )
    actions.decide(people["max"], pending(direct)[0], "approve")
    page.set_viewport_size(PHONE)
    for username in ("max", "rita", "ada", "audrey"):
        sign_in(page, username)
        page.goto("/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
        fits(page, username, shots)
        sign_out(page)
    sign_in(page, "rita")
    box = page.get_by_role("searchbox", name="Search requests, engagements and people")
    expect(box).to_be_visible()  # on the phone, without opening the menu
    box.focus()
    page.keyboard.type(request.reference)
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name=f"{request.reference} · Quarterly")).to_be_visible()
    fits(page, "search", shots)
    page.set_viewport_size({"width": 1366, "height": 900})  # the same page on a desktop
    page.screenshot(path=str(shots / "desktop-home-search.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.goto("/search/?q=" + "x" * 101)
    expect(page.get_by_role("alert")).to_contain_text("at most 100")
    fits(page, "search-too-long", shots)
