"""Teams, in the browser: the sandbox's Teams view (``/teams/`` on the sandbox) as people use it,
beside Gigbridge, from a product exactly as ``make run`` leaves it (tests/scenarios/story.py
says what the test may use: people in their browsers, the product's worker, the sandbox's
freelancers, clock and tools; never a row of its own).

Max chooses Teams for approval requests on his profile page. rita asks for a designer. Max
finds the approval card in his chat with the Gigbridge bot, writes a comment and clicks Approve:
the card shows who decided, and rita's request page shows his decision. Paula and Lena approve
in their inboxes; the job is posted on the sandbox marketplace and the engagement's thread
starts in its Team's General channel. rita picks a freelancer, who accepts: a contract and its
Upwork room. The freelancer writes in the room; the bridge mirrors it into the thread. Ada,
who owns the Team, opens the thread, sees the message with its author and time, and replies;
the reply reaches the Upwork room with her name in front, once, and never comes back into the
thread.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from gigbridge.conversations.actions import shown_time
from tests.scenarios.story import HOUR
from tests.scenarios.teams_world import set_endpoint

from .conftest import watch_csp
from .sandbox_teams import SandboxTeams, message, open_channel, pinned_chromium
from .story_steps import (  # noqa: F401 - own_sandbox, persons and world are fixtures
    approve_in_inbox,
    create_workspace,
    engagement_page,
    fill_request,
    own_sandbox,
    persons,
    sign_through_mailed_link,
    world,
)
from .test_story_marketplace import choose

pytestmark = pytest.mark.browser

WORKSPACE = "Launch visuals"
BUDGET = "8000"  # EUR: manager, procurement (from 5,000) and legal (confidential work)
OFFER = "3000"  # USD


@pytest.fixture
def teams(world, browser, live_server):  # noqa: F811 - the story's world
    """The sandbox's Teams view in browsers that trust the sandbox; its Bot Connector delivers
    to the bot's messaging endpoint on the live server (as ``gigbridge up`` points it)."""
    set_endpoint(world.http, world.info, f"{live_server.url}/hooks/teams")
    chromium = pinned_chromium(browser, world.info)
    view = SandboxTeams(chromium, world.info)
    try:
        yield view
    finally:
        view.close()
        chromium.close()
    assert view.violations() == [], "the Content-Security-Policy blocked something"


def shoot(persons, page, name: str) -> None:  # noqa: F811 - the fixture, passed on
    """Screenshots at 1366 and 390 px; the page must fit the phone."""
    persons.shoot(page, name)
    assert persons.too_wide == [], persons.too_wide


def test_approval_card_and_conversation_in_the_sandbox_teams_view(world, persons, teams):  # noqa: F811
    start = world.today() + dt.timedelta(days=2)
    end = start + dt.timedelta(days=59)
    create_workspace(world, persons, WORKSPACE)

    # Max wants approval requests in Teams.
    max_ = persons.signed_in("max", "/me/")
    notices = max_.locator("#notices")
    notices.get_by_label("Approval requests, reminders and escalations").select_option(
        label="Teams"
    )
    notices.get_by_role("button", name="Save notice preferences").click()
    expect(max_.get_by_role("status")).to_contain_text("Notice preferences saved")
    expect(
        max_.locator("#notices").get_by_label("Approval requests, reminders and escalations")
    ).to_have_value("teams")

    # rita asks for help on the web.
    rita = persons.signed_in("rita", "/requests/")
    rita.get_by_role("button", name="New request").click()
    fill_request(rita, budget=BUDGET, start=start, end=end, workspace=WORKSPACE)
    rita.get_by_role("button", name="Save and submit for approval").click()
    expect(rita.locator("#request-state")).to_have_text("In Approval")
    reference = rita.get_by_role("heading", level=1).inner_text().split(" · ")[0]
    request_url = rita.url
    world.work()  # the card goes to Max's chat with the bot

    # Max opens Teams (the sandbox's view) and finds the card in his chat with Gigbridge.
    max_teams = teams.open_as("max@contoso.example")
    card = message(max_teams, f"Approval needed: {reference}")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Rita Requester asks for freelance help")
    expect(card).to_contain_text(re.compile(r"8,000\.00 EUR|EUR 8,000\.00"))
    shoot(persons, max_teams, "teams-chat-approval-card")
    card.get_by_label(re.compile(r"^Comment")).fill("Fine by me, from Teams.")
    card.get_by_role("button", name="Approve").click()

    decided = message(max_teams, f"Approved: {reference}")
    expect(decided).to_have_count(1)
    expect(decided).to_contain_text("Approved by Max Manager on")
    expect(decided).to_contain_text("Fine by me, from Teams.")
    expect(decided.get_by_role("button", name="Approve")).to_have_count(0)  # no buttons left
    expect(message(max_teams, f"Approval needed: {reference}")).to_have_count(0)
    shoot(persons, max_teams, "teams-chat-card-decided")

    # rita's request page shows Max's decision, with his comment.
    rita.goto(request_url)
    manager = rita.get_by_role("row").filter(has=rita.get_by_role("cell", name="manager"))
    expect(manager).to_contain_text("Max Manager")
    expect(manager).to_contain_text("Approved")
    expect(manager).to_contain_text("Fine by me, from Teams.")
    shoot(persons, rita, "request-decided-in-teams")

    # Procurement and legal decide in their inboxes; the job is posted, the thread starts.
    world.work()
    approve_in_inbox(persons, "paula", reference)
    world.work()
    approve_in_inbox(persons, "lena", reference)
    world.work()
    page = engagement_page(persons, "rita", reference)
    expect(page.locator("#engagement-state")).to_have_text("Sourcing")
    heading = page.get_by_role("heading", level=1).inner_text()
    engagement = re.search(r"EN-\d+", heading).group(0)

    # Proposals; the chosen freelancer signs NDA and MSA through the mailed link and is picked.
    world.advance(9 * HOUR)
    world.work()
    page.reload()
    rows = page.locator("#proposals tbody tr")
    expect(rows.first).not_to_have_text("No proposals yet.")
    chosen = choose(world, rows)
    rows.filter(has_text=chosen["name"]).get_by_role(
        "button", name="Send NDA, MSA for signature"
    ).click()
    expect(page.get_by_role("status")).to_contain_text("will get a mail with a link to sign NDA")
    world.work()
    sign_through_mailed_link(world, persons, chosen["name"])
    page.reload()
    row = page.locator("#proposals tbody tr").filter(has_text=chosen["name"])
    row.get_by_role("button", name="Shortlist").click()
    row = page.locator("#proposals tbody tr").filter(has_text=chosen["name"])
    row.get_by_label(re.compile(r"^Amount \(USD")).fill(OFFER)
    row.get_by_role("button", name="Pick and send offer").click()
    expect(page.locator("#engagement-state")).to_have_text("Offered")
    world.work()
    world.advance(chosen["persona"]["answer_hours"] * HOUR + HOUR)
    world.work()
    world.work()
    page.reload()
    expect(page.locator("#engagement-state")).to_have_text("Contracted")
    contract = page.locator("#marketplace .facts dt").filter(has_text=re.compile(r"^Contract$"))
    contract_id = contract.locator("xpath=following-sibling::dd[1]").inner_text().split()[0]
    assert re.fullmatch(r"\d+", contract_id), contract_id

    # The freelancer writes in the contract's Upwork room; the bridge's poll mirrors it.
    world.advance(10 * 60)
    said = "The first logo sketches are up: three directions, see the attached board."
    before = world.market.now()
    written = world.market.tool(
        "act", {"action": "message", "contractId": contract_id, "message": said}
    )
    after = world.market.now()
    world.advance(60)  # the bridge's next poll
    world.work()

    # Ada owns the workspace's Team: she opens its General channel in Teams.
    ada_teams = teams.open_as("ada@contoso.example")
    open_channel(ada_teams, WORKSPACE)
    thread = ada_teams.locator("section.thread").filter(has_text=f"{engagement} ")
    expect(thread).to_have_count(1)
    expect(thread.locator("article").first).to_contain_text("The Upwork conversation")
    theirs = message(thread, said)
    expect(theirs).to_have_count(1)
    times = {shown_time(moment) for moment in (before, after)}  # a minute may turn meanwhile
    expect(theirs).to_contain_text(
        re.compile(
            rf"{re.escape(chosen['name'])} on Upwork, "
            rf"({'|'.join(re.escape(t) for t in sorted(times))})"
        )
    )
    expect(theirs).to_contain_text(f"Upwork story {written['storyId']}")
    shoot(persons, ada_teams, "teams-channel-thread")

    # Ada replies in the thread; the bot hears it, the worker sends it to the room.
    answer = "Thank you! Direction two, please; the brand guide can follow next week."
    thread.get_by_label("Reply").fill(answer)
    thread.get_by_role("button", name="Send").click()
    mine = message(ada_teams.locator("section.thread").filter(has_text=f"{engagement} "), answer)
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Ada Admin")
    expect(mine).to_contain_text("Delivered")
    world.work()

    # In the Upwork room (the sandbox marketplace's viewer): once, with her name in front.
    ada_market = teams.contexts[-1].new_page()
    teams.csp.append(watch_csp(ada_market))
    ada_market.goto("/upwork/")
    expect(ada_market.get_by_role("heading", name="Rooms and messages")).to_be_visible()
    stories = ada_market.locator("td").filter(has_text=f"Ada Admin: {answer}")
    expect(stories).to_have_count(1)
    expect(ada_market.locator("td").filter(has_text=said)).to_have_count(1)

    # No loop: the bridge's next polls bring nothing back into the thread.
    world.advance(60)
    world.work()
    world.advance(60)
    world.work()
    ada_teams.reload()
    thread = ada_teams.locator("section.thread").filter(has_text=f"{engagement} ")
    expect(message(thread, answer)).to_have_count(1)
    expect(message(thread, "Ada Admin on Upwork")).to_have_count(0)
    expect(message(thread, said)).to_have_count(1)
    shoot(persons, ada_teams, "teams-channel-reply")
