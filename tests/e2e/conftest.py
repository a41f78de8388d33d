"""Browser tests: headless Chromium (Debian's, never a downloaded one) against a live server.

One browser per session keeps the suite fast (a launch costs about 2 s); every test gets a
fresh context, so no cookie or session leaks from one test into the next.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD  # noqa: F401 - the e2e tests import them here


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    # Pages are server-rendered and answer in well under a second; 10 s leaves room for a busy
    # CI box, yet a click on something missing fails three times sooner than the default 30 s.
    context.set_default_timeout(10_000)
    page = context.new_page()
    violations = watch_csp(page)
    yield page
    context.close()
    assert violations == [], "the Content-Security-Policy blocked something"


def watch_csp(page: Page) -> list[str]:
    """Chromium reports what the CSP blocks on the console: collect it, so a test can fail."""
    violations: list[str] = []

    def seen(message):
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", seen)
    return violations


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The tests sign in a dozen times and create the demo people for each test; the real
    # hasher's deliberate slowness would be most of the suite's run time and proves nothing here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def base_url(live_server, settings):
    """Mails link to the live server, as they would to the real site."""
    settings.BASE_URL = live_server.url
    return live_server.url


def menu_button(page: Page):
    """The "Menu" button of the main navigation: shown on a phone, where the links fold."""
    return page.get_by_role("navigation", name="Main").locator("details.nav-menu > summary")


def open_menu(page: Page) -> None:
    """On a phone, tap "Menu" as a person would (nothing to do where the links show)."""
    button = menu_button(page)
    if button.is_visible() and page.locator("details.nav-menu[open]").count() == 0:
        button.click()
        expect(page.locator("details.nav-menu[open]")).to_have_count(1)


def sign_in(page: Page, username: str) -> None:
    """Sign in on the login page; opens it first unless a redirect already showed it."""
    if not re.search(r"/login/", page.url):
        page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("header details.nav-menu")).to_be_attached()  # signed in
    sign_out_button = page.locator("header form button", has_text="Sign out")
    if menu_button(page).is_visible():  # on a phone: behind "Menu", left closed
        expect(sign_out_button).to_be_attached()
    else:
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page) -> None:
    open_menu(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


@pytest.fixture
def deliver_mail():
    """Run the pending mail jobs as the worker would; returns the messages sent by this call."""
    from django.core import mail

    from gigbridge.jobs.actions import run
    from gigbridge.jobs.models import OutboxJob
    from gigbridge.notifications.actions import MAIL_JOB

    def deliver():
        before = len(mail.outbox)
        pending = OutboxJob.objects.filter(kind=MAIL_JOB, state=OutboxJob.State.PENDING)
        for job_id in pending.order_by("pk").values_list("pk", flat=True):
            assert run(job_id).status == "done"
        return mail.outbox[before:]

    return deliver
