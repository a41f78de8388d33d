"""The sandbox viewer in a phone-sized browser: sign in to its tools, click "+1 day", and the
sandbox clock (which the product follows in the embedded default) reads the next day. The
pages fit 390 px and the viewer's strict CSP blocks nothing (it has no inline style or script).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import clock_start

from .conftest import CHROMIUM, CHROMIUM_ARGS, watch_csp
from .test_oidc_browser import spki_pin

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def sandbox_browser(browser, tenant_info):
    """A Chromium that trusts exactly the sandbox server's key (see test_oidc_browser)."""
    pin = spki_pin(tenant_info["authority"], tenant_info["ca_cert"])
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={pin}"],
    )
    yield chromium
    chromium.close()


@pytest.fixture
def shots(settings) -> Path:
    folder = Path(os.environ.get("GIGBRIDGE_SCREENSHOTS") or settings.DATA_DIR / "screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def fits(page, name: str, shots: Path) -> None:
    page.screenshot(path=str(shots / f"sandbox-{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width} px wide on a {PHONE['width']} px phone"


def test_plus_one_day_in_the_viewer_moves_the_sandbox_clock(sandbox_browser, tenant_info, shots):
    context = sandbox_browser.new_context(
        viewport=PHONE, base_url=tenant_info["viewer_url"].rstrip("/")
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    violations = watch_csp(page)
    try:
        page.goto("/")
        start = clock_start().astimezone(dt.UTC)
        shown = page.locator("#sandbox-time")
        expect(shown).to_have_text(re.compile(start.strftime("^%Y-%m-%d %H:")))
        fits(page, "viewer-signed-out", shots)

        page.get_by_label("Client id").fill(tenant_info["client_id"])
        page.get_by_label("Client secret").fill(tenant_info["client_secret"])
        page.get_by_role("button", name="Sign in").click()
        plus_day = page.get_by_role("button", name="+1 day")
        expect(plus_day).to_be_visible()
        expect(page.get_by_role("button", name="+1 hour")).to_be_visible()
        expect(page.get_by_role("button", name="+1 week")).to_be_visible()
        expect(page.get_by_label("Go to date")).to_be_visible()
        fits(page, "viewer-signed-in", shots)

        plus_day.click()

        tomorrow = start + dt.timedelta(days=1)
        expect(shown).to_have_text(re.compile(tomorrow.strftime("^%Y-%m-%d %H:")))
        assert page.url.endswith("/#clock")

        page.goto("/upwork/")  # the marketplace viewer: same clock, same controls
        expect(page.locator("#sandbox-time")).to_have_text(
            re.compile(tomorrow.strftime("^%Y-%m-%d %H:"))
        )
        expect(page.get_by_role("button", name="+1 day")).to_be_visible()
        fits(page, "upwork-viewer", shots)
    finally:
        context.close()
    assert violations == [], "the Content-Security-Policy blocked something"
