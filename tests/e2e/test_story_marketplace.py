"""The marketplace story, whole, in the browser, from an empty product as ``make run`` leaves
it (tests/scenarios/story.py says what the test may use: people in their browsers, the
product's worker, the sandbox's freelancers, clock, mail and Graph; never a row of its own).

rita asks for a designer → max (inbox), paula (the mailed link) and lena (inbox) approve → the
job is posted on the sandbox marketplace → proposals arrive → the chosen freelancer signs NDA and
MSA through the mailed link, without an account → rita picks them → they accept → the tenant has
the guest, the Team membership, the Planner tasks and a folder share until contract end + grace
→ the milestone is submitted → rita approves and pays it in Gigbridge → the payment counts in
spend → rita ends the contract early → the share's expiry is cut to today + grace → after grace
every grant is gone.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.scenarios.story import (
    AVOID,
    DAY,
    HOUR,
    end_of_grace,
)

from .story_steps import (  # noqa: F401 - own_sandbox, persons and world are fixtures
    approve_in_inbox,
    approve_through_mailed_link,
    create_workspace,
    end_contract,
    engagement_page,
    fill_request,
    offboarding_cuts_access,
    own_sandbox,
    persons,
    review_shows_share_until,
    sign_through_mailed_link,
    world,
)

pytestmark = pytest.mark.browser

WORKSPACE = "Spring campaign"
FOLDER = f"Freelance/{WORKSPACE}"
BUDGET = "8000"  # EUR: procurement from 5,000; confidential work: legal
OFFER = "3000"  # USD, within the budget's 8,695.65 USD


def test_marketplace_story_from_an_empty_product(world, persons):  # noqa: F811 - fixtures
    # Work starts the day after tomorrow: still ahead when the offer is accepted (at most 16
    # hours from now), come when the milestone is submitted, whatever the hour it is now.
    start = world.today() + dt.timedelta(days=2)
    end = start + dt.timedelta(days=59)

    # The program admin makes the project's workspace: a new Team with a plan and a folder.
    create_workspace(world, persons, WORKSPACE)

    # rita asks for help; the policy names manager, procurement and legal.
    rita = persons.signed_in("rita", "/requests/")
    rita.get_by_role("button", name="New request").click()
    fill_request(rita, budget=BUDGET, start=start, end=end, workspace=WORKSPACE)
    persons.shoot(rita, "request-form")
    rita.get_by_role("button", name="Save and submit for approval").click()
    expect(rita.locator("#request-state")).to_have_text("In Approval")
    reference = rita.get_by_role("heading", level=1).inner_text().split(" · ")[0]
    persons.shoot(rita, "request-submitted")

    world.work()  # the approvers hear of it by mail, through the tenant
    approve_in_inbox(persons, "max", reference, shot="decision-in-inbox")
    world.work()
    approve_through_mailed_link(world, persons, "paula", reference, shot="decision-from-mail")
    world.work()
    approve_in_inbox(persons, "lena", reference)

    # Approved: the engagement is made and its job posted on the marketplace.
    world.work()
    page = engagement_page(persons, "rita", reference)
    expect(page.locator("#engagement-state")).to_have_text("Sourcing")
    posting = page.locator("#marketplace .facts dd").nth(1)
    expect(posting).to_have_text(re.compile(r"^\d+$"))  # the posting's id on the marketplace

    # Freelancers propose within eight hours.
    world.advance(9 * HOUR)
    world.work()
    page.reload()
    rows = page.locator("#proposals tbody tr")
    expect(rows.first).not_to_have_text("No proposals yet.")
    assert 3 <= rows.count() <= 5, rows.all_inner_texts()
    persons.shoot(page, "proposals")
    chosen = choose(world, rows)
    row = rows.filter(has_text=chosen["name"])
    expect(row).to_contain_text("has not signed NDA, MSA")

    # Picking is refused until they signed: rita sends the agreements for signature.
    row.get_by_role("button", name="Send NDA, MSA for signature").click()
    expect(page.get_by_role("status")).to_contain_text("will get a mail with a link to sign NDA")
    world.work()
    email = sign_through_mailed_link(world, persons, chosen["name"])

    page.reload()
    row = page.locator("#proposals tbody tr").filter(has_text=chosen["name"])
    expect(row).not_to_contain_text("has not signed")
    row.get_by_role("button", name="Shortlist").click()
    expect(page.get_by_role("status")).to_have_text(f"{chosen['name']} is shortlisted.")
    row = page.locator("#proposals tbody tr").filter(has_text=chosen["name"])
    row.get_by_label(re.compile(r"^Amount \(USD")).fill(OFFER)
    row.get_by_role("button", name="Pick and send offer").click()
    expect(page.get_by_role("status")).to_have_text(f"The offer to {chosen['name']} is on its way.")
    expect(page.locator("#engagement-state")).to_have_text("Offered")

    # The offer goes out; the freelancer accepts within hours; access follows the contract.
    world.work()
    world.advance(chosen["persona"]["answer_hours"] * HOUR + HOUR)
    world.work()
    world.work()
    page.reload()
    expect(page.locator("#engagement-state")).to_have_text("Contracted")
    expect(page.locator(".facts").first).to_contain_text(chosen["name"])
    persons.shoot(page, "contracted")

    # In the tenant: the guest, their Team membership, a task per deliverable assigned to
    # them, and the folder shared until the contract's end + grace.
    guest = world.user(email)
    assert guest is not None and guest["userType"] == "Guest", guest
    team = world.team(WORKSPACE)
    membership = world.team_membership(team["id"], guest["id"])
    assert membership is not None and membership["roles"] == ["guest"], membership
    tasks = [t for t in world.tasks(team["id"]) if guest["id"] in (t.get("assignments") or {})]
    assert sorted(t["title"].split(" (")[0] for t in tasks) == ["Brand guide", "Logo"], tasks
    share = world.folder_share(team["id"], FOLDER, email)
    assert share is not None and share["roles"] == ["write"], share
    assert share["expirationDateTime"] == end_of_grace(end), (share, end)
    access = page.locator("#access-grants tbody tr")
    expect(access.filter(has_text="folder")).to_contain_text(
        (end + dt.timedelta(days=3)).isoformat()
    )
    review_shows_share_until(persons, email, end + dt.timedelta(days=3), "access-review")

    # The freelancer submits the milestone two days after it was funded.
    world.advance(3 * DAY)
    world.work()
    milestone_link, _ = world.link_in_mail(
        r"/engagements/\d+/", to="rita@contoso.example", subject="Milestone submitted"
    )
    page.goto(milestone_link)
    expect(page.locator("#engagement-state")).to_have_text("Active")
    expect(page.locator("#milestones li")).to_contain_text("submitted")
    persons.shoot(page, "milestone-submitted")
    assert persons.too_wide == [], persons.too_wide  # every page so far fits a phone

    milestones = page.get_by_role("region", name="Milestones", exact=True)
    item = milestones.locator("[id^=milestone-]").filter(has_text=re.compile("submitted", re.I))
    approve = item.locator("form").filter(has=page.get_by_role("button", name="Approve and pay"))
    expect(approve.locator("[name=amount]")).to_have_value(re.compile(r"^3,?000(\.00)?$"))
    approve.locator("[name=comment]").fill("Lovely work, thank you.")
    persons.shoot(page, "milestone-to-approve")
    approve.get_by_role("button", name="Approve and pay").click()
    world.work()
    world.advance(HOUR)
    world.work()
    page.reload()
    expect(page.locator("#milestones")).to_contain_text(re.compile("paid", re.I))
    payments = page.locator("#payments tbody tr").filter(has_text="payment")
    expect(payments).to_have_count(1)
    expect(payments.locator("td").nth(2)).to_have_text("3,000.00 USD (2,760.00 EUR)")
    expect(page.locator("#budget-used")).to_contain_text("2,760.00 EUR of 8,000.00 EUR")
    persons.shoot(page, "paid")
    # The cost center's spend this fiscal year (the example's starts in January) counts work
    # by its start date: a December start paid in January counts in the year before.
    engagement_url = page.url
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Policy").click()
    paid = "2,760.00 EUR" if start.year == world.today().year else "0.00 EUR"
    expect(page.locator("#cc-CC-MKT td").last).to_have_text(paid)
    persons.shoot(page, "policy-spend")
    page.goto(engagement_url)

    ended_on = world.today()
    assert ended_on < end
    end_contract(page, "The campaign was cancelled; the logo is all we need.", persons)
    world.work()
    world.advance(10 * 60)  # the worker's next pass, minutes later
    world.work()
    offboarding_cuts_access(world, persons, page, (team, FOLDER), (guest, email), ended_on)


def choose(world, rows) -> dict:  # noqa: F811 - the story's world
    """The first proposal (as listed) by a freelancer who may be engaged and accepts offers;
    the sandbox's personas say who that is."""
    people = {f["name"]: f for f in world.market.tool("freelancers")["value"]}
    for text in rows.all_inner_texts():
        for name, freelancer in people.items():
            if text.startswith(name) and freelancer["id"] not in AVOID:
                return freelancer
    raise AssertionError(f"no proposal from a freelancer who would accept: {rows}")
