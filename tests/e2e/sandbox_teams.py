"""The sandbox's Teams view (``/teams/`` on the sandbox) in a browser, as the people of the
tenant use it: sign in to the sandbox tools, pick who you are, open your chat with the Gigbridge
bot or a channel of a Team you belong to.

The sandbox answers over HTTPS with a certificate of its own CA: the browser trusts exactly that
server's key (the pin, as in test_oidc_browser), nothing else.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from .conftest import CHROMIUM, CHROMIUM_ARGS, watch_csp
from .story_pages import pick_option_containing
from .test_oidc_browser import spki_pin

PHONE = 390


def pinned_chromium(browser: Browser, info: dict) -> Browser:
    """A Chromium that trusts the sandbox server's key (close it when done)."""
    pin = spki_pin(info["authority"], info["ca_cert"])
    return browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={pin}"],
    )


class SandboxTeams:
    """A browser of their own for each person who opens the sandbox's Teams view."""

    def __init__(self, chromium: Browser, info: dict):
        self.chromium, self.info = chromium, info
        self.base_url = info["viewer_url"].rstrip("/")
        self.contexts = []
        self.csp: list[list[str]] = []

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    def violations(self) -> list[str]:
        return [message for found in self.csp for message in found]

    def open_as(self, email: str) -> Page:
        """Open ``/teams/``, sign in to the sandbox tools, pick the person ``email``: their chat
        with the Gigbridge bot shows."""
        context = self.chromium.new_context(
            base_url=self.base_url, viewport={"width": 1366, "height": 900}
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        self.csp.append(watch_csp(page))
        page.goto("/teams/")
        expect(page.get_by_role("heading", name="Teams", level=1)).to_be_visible()
        tools = page.get_by_role("form", name="Sign in to the sandbox tools")
        tools.get_by_label("Client id").fill(self.info["client_id"])
        tools.get_by_label("Client secret").fill(self.info["client_secret"])
        tools.get_by_role("button", name="Sign in").click()
        pick_option_containing(page, "You are", email)
        page.get_by_role("button", name="Open Teams").click()
        expect(page.get_by_role("heading", name="Chat with Gigbridge", level=2)).to_be_visible()
        return page


def open_channel(page: Page, team: str, channel: str = "General") -> None:
    """Follow the link to the channel in the view's list of chats and channels."""
    nav = page.get_by_role("navigation", name="Chats and channels")
    nav.get_by_role("link", name=f"{team} › {channel}").click()
    expect(page.get_by_role("heading", name=f"{team} › {channel}", level=2)).to_be_visible()


def message(page: Page, text: str | re.Pattern):
    """The messages (``article``) on the page that contain ``text``."""
    return page.locator("article.message").filter(has_text=text)
