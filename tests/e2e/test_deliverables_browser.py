"""A freelancer's file, from the sandbox's SharePoint to the milestone that pays for it, in
Chromium, from an empty product as ``make run`` leaves it (tests/scenarios/story.py says what
the test may use).

The marketplace part (request, approvals, posting, proposals, signing, the offer accepted) is
done by the demo people through the REST API (tests/scenarios/api_story.py). Then the browser:
the freelancer, now a guest of the tenant, opens the sandbox's Files view, finds the project
folder shared with her and uploads her logo; the product hears of it (Graph notification, delta),
scans it with a real clamd and records it; rita sees it on the engagement page, and in the
milestone the freelancer submits, and approves that milestone.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.scenarios.api_story import contracted_on_the_marketplace
from tests.scenarios.files_story import apis, deliverables, work_until
from tests.scenarios.story import DAY, own_sandbox, start_world  # noqa: F401 - a fixture

from .sandbox_teams import pinned_chromium
from .story_pages import pick_option_containing
from .story_steps import persons  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser

WORKSPACE = "Spring launch"
LOGO = b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="80" height="40" fill="#06c"/></svg>\n'


@pytest.fixture
def world(own_sandbox, settings, tmp_path, live_server, clamav):  # noqa: F811
    world = start_world(settings, own_sandbox, tmp_path / "data", live_server.url)
    yield world
    world.close()


def test_a_guest_delivers_and_the_manager_approves_the_milestone_that_lists_it(
    world,
    persons,  # noqa: F811 - a fixture
    browser,
    tmp_path,
):
    api = apis(world, "ada", "rita", "max", "paula", "lena")
    hired = contracted_on_the_marketplace(world, api, WORKSPACE, base_url=settings.BASE_URL)
    world.work()  # the project's drive is watched from now on
    name = world.user(hired.email)["displayName"]

    # The freelancer, a guest now, opens the sandbox's Files view and uploads her logo into
    # the project folder shared with her.
    chromium = pinned_chromium(browser, world.info)
    try:
        context = chromium.new_context(
            base_url=world.info["viewer_url"].rstrip("/"), viewport={"width": 1366, "height": 900}
        )
        context.set_default_timeout(10_000)
        sharepoint = context.new_page()
        sharepoint.goto("/files/")
        tools = sharepoint.get_by_role("form", name="Sign in to the sandbox tools")
        tools.get_by_label("Client id").fill(world.info["client_id"])
        tools.get_by_label("Client secret").fill(world.info["client_secret"])
        tools.get_by_role("button", name="Sign in").click()
        pick_option_containing(sharepoint, "You are", hired.email)
        sharepoint.get_by_role("button", name="Open their files").click()
        # A guest of the project's Team: its library, then the project folder in it.
        shared = sharepoint.get_by_role("navigation", name="Libraries and shared items")
        shared.get_by_role("link", name=WORKSPACE).click()
        for folder in ("Freelance", WORKSPACE):
            sharepoint.get_by_role("list", name="In this folder").get_by_role(
                "link", name=folder, exact=True
            ).click()
        logo = tmp_path / "Logo.svg"
        logo.write_bytes(LOGO)
        sharepoint.get_by_label(f"Upload a file as {name}").set_input_files(str(logo))
        sharepoint.get_by_role("button", name="Upload", exact=True).click()
        expect(sharepoint.get_by_role("heading", name="Logo.svg", level=2)).to_be_visible()
        expect(sharepoint.get_by_role("paragraph").filter(has_text="version 1.0")).to_contain_text(
            f"by {name}"
        )
        persons.shoot(sharepoint, "guest-uploads-in-sharepoint")
    finally:
        chromium.close()

    def scanned() -> list[dict]:
        found = deliverables(api["rita"], hired.engagement_id)
        return [d for d in found if d["verdict"] != "pending"]

    recorded = work_until(world, scanned, "the logo to be recorded and scanned")
    assert [(d["file"], d["verdict"]) for d in recorded] == [("Logo.svg", "clean")]

    # The freelancer submits the milestone; rita sees the logo on the page and in the milestone.
    world.advance(3 * DAY)
    world.work()
    milestone = api["rita"].get(f"/engagements/{hired.engagement_id}/marketplace")["milestones"][0]
    assert milestone["state"] == "SUBMITTED", milestone
    rita = persons.signed_in("rita", f"/engagements/{hired.engagement_id}/")
    files = rita.get_by_role("region", name="Deliverables")
    row = files.locator("#deliverables-table tbody tr").filter(has_text="Logo.svg")
    expect(row).to_contain_text("version 1.0")
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("Logo")  # the request deliverable (Planner task) it answers
    expect(row.get_by_role("link", name="Open in SharePoint")).to_be_visible()
    persons.shoot(rita, "engagement-deliverables")

    item = rita.locator(f"#milestone-{milestone['id']}")
    listed = item.locator(".milestone-deliverables")
    expect(listed).to_contain_text("Files since the previous milestone: 1, 1 scanned clean")
    expect(listed).to_contain_text("Logo.svg")
    persons.shoot(rita, "milestone-lists-its-files")
    item.get_by_role("button", name="Approve and pay").click()
    expect(rita.get_by_role("status")).to_contain_text("Approved:")
    persons.shoot(rita, "milestone-approved")
    world.work()
    paid = api["rita"].get(f"/engagements/{hired.engagement_id}/marketplace")
    assert Decimal(paid["milestones"][0]["amount"]) > 0
    assert persons.too_wide == [], persons.too_wide
