"""What people do in the browser in the story tests: each person in a browser of their own,
signed in with the demo password ``make run`` printed; screenshots of the key pages at a
laptop's and a phone's width.

Screenshots land in ``$GIGBRIDGE_SCREENSHOT_DIR/<test>/NN-name-WIDTH.png`` (default
``test-results/screenshots`` in the checkout, which git ignores).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect

from conftest import ROOT

from .conftest import watch_csp

SCREENSHOT_DIR_VARIABLE = "GIGBRIDGE_SCREENSHOT_DIR"
WIDTHS = {1366: 900, 390: 844}  # a laptop, a phone (height: the first screen)
PHONE = 390


def screenshot_dir(test_name: str) -> Path:
    root = Path(os.environ.get(SCREENSHOT_DIR_VARIABLE) or ROOT / "test-results" / "screenshots")
    folder = root / re.sub(r"[^\w.-]+", "-", test_name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):  # this run's pictures only
        old.unlink()
    return folder


class People:
    """A browser context per person (their own cookies), opened on first use."""

    def __init__(self, browser: Browser, base_url: str, password: str, shots: Path):
        self.browser, self.base_url, self.password, self.shots = browser, base_url, password, shots
        self.contexts: dict[str, BrowserContext] = {}
        self.pages: dict[str, Page] = {}
        self._watched: list[list[str]] = []  # per page: what its CSP blocked
        self.taken = 0
        self.too_wide: list[str] = []

    def close(self) -> None:
        for context in self.contexts.values():
            context.close()

    @property
    def csp(self) -> list[str]:
        """What the Content-Security-Policy blocked on any person's page so far."""
        return [message for found in self._watched for message in found]

    def browser_of(self, name: str) -> Page:
        """``name``'s browser (not signed in yet: see ``signed_in``)."""
        if name not in self.pages:
            context = self.browser.new_context(
                base_url=self.base_url, viewport={"width": 1366, "height": WIDTHS[1366]}
            )
            context.set_default_timeout(10_000)
            page = context.new_page()
            # The list fills as the page runs: kept, not copied (copied now, it stays empty).
            self._watched.append(watch_csp(page))
            self.contexts[name], self.pages[name] = context, page
        return self.pages[name]

    def signed_in(self, username: str, path: str = "/") -> Page:
        """``username``'s browser, signed in (once) with the demo password, at ``path``."""
        page = self.browser_of(username)
        if not page.url.startswith(self.base_url):
            page.goto(path)
            if "/login/" in page.url:
                self.sign_in(page, username)
        page.goto(path)
        return page

    def sign_in(self, page: Page, username: str) -> None:
        """On the sign-in page (a mailed link may have led there first)."""
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(self.password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    def shoot(self, page: Page, name: str) -> None:
        """The page as it is now at 1366 and 390 px wide; remembers a page wider than a phone."""
        self.taken += 1
        for width, height in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(
                path=str(self.shots / f"{self.taken:02d}-{name}-{width}.png"), full_page=True
            )
            if width == PHONE:
                scroll = page.evaluate("document.documentElement.scrollWidth")
                if scroll > PHONE:
                    self.too_wide.append(f"{name} ({page.url}): {scroll} px")
        page.set_viewport_size({"width": 1366, "height": WIDTHS[1366]})


def pick_option_containing(page: Page, label: str, text: str) -> None:
    select = page.get_by_label(label)
    value = select.locator("option").filter(has_text=text).first.get_attribute("value")
    select.select_option(value)
