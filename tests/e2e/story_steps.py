"""Steps of the story tests in the browser, as the people of the demo take them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from tests.scenarios.story import (
    DAY,
    World,
    end_of_grace,
    own_sandbox,  # noqa: F401 - a fixture
    start_world,
)

from .story_pages import People, screenshot_dir

__all__ = [
    "persons",
    "world",
    "own_sandbox",
    "approve_in_inbox",
    "approve_through_mailed_link",
    "create_workspace",
    "end_contract",
    "engagement_page",
    "fill_request",
    "offboarding_cuts_access",
    "review_shows_share_until",
    "sign_through_mailed_link",
]


def create_workspace(world: World, persons: People, name: str) -> None:
    """The program admin makes a workspace on a new Team; the worker provisions it."""
    ada = persons.signed_in("ada", "/")
    ada.get_by_role("navigation", name="Main").get_by_role("link", name="Workspaces").click()
    ada.get_by_label("Name", exact=True).fill(name)
    expect(ada.get_by_role("combobox", name="Team")).to_have_value("")  # a new Team
    ada.get_by_role("button", name="Create workspace").click()
    expect(ada.get_by_role("status")).to_have_text(
        f"Workspace {name} is being prepared in Microsoft 365."
    )
    world.work()
    ada.reload()
    expect(ada.get_by_role("row").filter(has_text=name)).to_contain_text("ready")
    persons.shoot(ada, "workspaces")


def fill_request(
    page: Page,
    *,
    budget: str,
    start: dt.date,
    end: dt.date,
    workspace: str,
    title: str = "Brand refresh for the spring campaign",
    sourcing: str = "marketplace",
    freelancer_email: str = "",
    freelancer_country: str = "",
    classification: str = "confidential",
) -> None:
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("A new visual identity for the campaign.")
    page.get_by_label("Deliverables").fill("Logo\nBrand guide")
    page.get_by_label("Skills").fill("figma, branding")
    page.get_by_label("Task category").select_option("design")
    page.get_by_label("Worker category").select_option("freelancer")
    page.get_by_label("Cost center").select_option("CC-MKT")
    page.get_by_label("Pricing").select_option("fixed")
    page.get_by_label("Budget").fill(budget)
    expect(page.get_by_label("Currency")).to_have_value("EUR")
    page.get_by_label("Start date").fill(start.isoformat())
    page.get_by_label("End date").fill(end.isoformat())
    page.get_by_label("Data classification").select_option(classification)
    page.get_by_label("Sourcing").select_option(sourcing)
    page.get_by_label("Workspace").select_option(workspace)
    if freelancer_email:
        page.get_by_label("Freelancer's email").fill(freelancer_email)
        page.get_by_label("Freelancer's country").fill(freelancer_country)


def _decide(persons: People, page: Page, username: str, reference: str, shot: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    for radio in page.get_by_role("radio").all():
        expect(radio).not_to_be_checked()  # no decision is made for them
    if shot:
        persons.shoot(page, shot)
    page.get_by_role("radio", name="Approve").check()
    page.get_by_label("Comment").fill(f"Fine by {username}.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_have_text(f"Decision recorded for {reference}.")


def approve_in_inbox(persons: People, username: str, reference: str, shot: str = "") -> None:
    page = persons.signed_in(username, "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    if shot:
        persons.shoot(page, "approvals-inbox")
    page.get_by_role("row").filter(has_text=reference).get_by_role("button", name="Decide").click()
    _decide(persons, page, username, reference, shot)


def approve_through_mailed_link(
    world: World, persons: People, username: str, reference: str, shot: str = ""
) -> None:
    """The approver opens the link in the mail the product sent through the tenant: sign-in
    first, then the decision."""
    link, _ = world.link_in_mail(
        r"/a/[^/\s]+/", to=f"{username}@contoso.example", subject=reference
    )
    page = persons.browser_of(username)
    page.goto(link)
    persons.sign_in(page, username)
    expect(page).to_have_url(link)
    _decide(persons, page, username, reference, shot)


def engagement_page(persons: People, username: str, reference: str) -> Page:
    """``username`` opens the engagement of request ``reference`` from the list."""
    page = persons.signed_in(username, "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Engagements").click()
    page.get_by_role("row").filter(has_text=reference).get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("EN-")
    return page


def sign_through_mailed_link(world: World, persons: People, name: str) -> str:
    """The freelancer opens the signing link mailed to them (no account), reads and signs.
    Returns their address."""
    link, email = world.link_in_mail(r"/s/[^/\s]+/", subject="Please sign")
    page = persons.browser_of(f"freelancer {email}")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text("please read and accept")
    expect(page.get_by_role("heading", level=2)).to_have_text(["NDA", "MSA"])
    persons.shoot(page, "signing")
    page.get_by_label("Your full name, typed as your signature").fill(name)
    page.get_by_label(re.compile(r"I have read NDA and MSA")).check()
    page.get_by_role("button", name="Sign NDA and MSA").click()
    expect(page.get_by_role("status")).to_contain_text("You signed NDA and MSA")
    persons.shoot(page, "signed")
    # The link works once.
    page.goto(link)
    expect(page.get_by_role("button", name="Sign NDA and MSA")).to_have_count(0)
    return email


def end_contract(page: Page, feedback: str, persons: People) -> None:
    """The "End the contract" form on the engagement page, filled and sent."""
    section = page.get_by_role("region", name="End the contract")
    reason = section.locator("select[name=reason]")
    value = reason.locator("option").evaluate_all(
        "options => options.map(o => o.value).filter(v => v)"
    )[0]
    reason.select_option(value)
    section.locator("textarea[name=feedback]").fill(feedback)
    section.get_by_label("I am sure").check()
    persons.shoot(page, "end-contract")
    section.get_by_role("button", name="End contract").click()


def review_shows_share_until(persons: People, email: str, until: dt.date, shot: str) -> None:
    """The program admin's access review lists the guest's folder share until ``until``."""
    ada = persons.signed_in("ada", "/")
    ada.get_by_role("navigation", name="Main").get_by_role("link", name="Access").click()
    share = ada.get_by_role("row").filter(has_text=email).filter(has_text="folder")
    expect(share.locator("td").last).to_have_text(until.isoformat())
    persons.shoot(ada, shot)


def offboarding_cuts_access(
    world: World,
    persons: People,
    page: Page,
    where: tuple[dict, str],
    who: tuple[dict, str],
    ended_on: dt.date,
) -> None:
    """After an early end: offboarding, the share of the folder (``where``: the Team and the
    folder's path) cut back to the end + grace on the page, in the review and in the tenant;
    once grace is over every grant (and ``who``: the guest, by account and mail) is gone."""
    (team, folder), (guest, email) = where, who
    page.reload()
    expect(page.locator("#engagement-state")).to_have_text("Offboarding")
    share = world.folder_share(team["id"], folder, email)
    assert share is not None and share["expirationDateTime"] == end_of_grace(ended_on), share
    expect(page.locator("#access-grants tbody tr").filter(has_text="folder")).to_contain_text(
        (ended_on + dt.timedelta(days=3)).isoformat()
    )
    persons.shoot(page, "offboarding")
    review_shows_share_until(
        persons, email, ended_on + dt.timedelta(days=3), "access-review-shortened"
    )

    # Grace over: every grant goes, the guest too; the engagement closes.
    world.advance(4 * DAY)
    world.work()
    world.work()
    assert world.user(email) is None
    assert world.team_membership(team["id"], guest["id"]) is None
    assert world.folder_share(team["id"], folder, email) is None
    assert not [t for t in world.tasks(team["id"]) if guest["id"] in (t.get("assignments") or {})]
    page.reload()
    expect(page.locator("#engagement-state")).to_have_text("Closed")
    persons.shoot(page, "closed")
    assert persons.too_wide == [], persons.too_wide


@pytest.fixture
def world(own_sandbox, settings, tmp_path, live_server):  # noqa: F811
    """A product as `make run` leaves it, on a sandbox of its own (see tests/scenarios/story)."""
    world = start_world(settings, own_sandbox, tmp_path / "data", live_server.url)
    yield world
    world.close()


@pytest.fixture
def persons(browser, live_server, world, request):  # noqa: F811
    """The demo people, each in a browser of their own, screenshots kept per test."""
    persons = People(browser, live_server.url, world.password, screenshot_dir(request.node.name))
    yield persons
    persons.close()
    assert persons.csp == [], "the Content-Security-Policy blocked something"
