"""The direct-hire story, whole, in the browser, from an empty product as ``make run`` leaves
it (tests/scenarios/story.py says what the test may use: people in their browsers, the
product's worker, the sandbox's clock, mail and Graph; never a row of its own).

rita asks to engage a freelancer she names → max approves from the mailed link, paula from her
inbox → lena (legal) sees the NDA and MSA missing before she decides, records both from the
signed copies (a link, an uploaded PDF) and approves → rita starts the contract from the
engagement page (from tomorrow) → the tenant has the guest, the Team membership, the Planner tasks
and a folder share until contract end + grace → on the start day the scheduler makes the
engagement active → rita ends the contract early in Gigbridge → the share's expiry is cut to
today + grace → after grace every grant is gone.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.scenarios.story import (
    DAY,
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
    world,
)

pytestmark = pytest.mark.browser

WORKSPACE = "Website relaunch"
FOLDER = f"Freelance/{WORKSPACE}"
FREELANCER = "nora.lind@freelancers.example"
NAME = "Nora Lind"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_direct_hire_story_from_an_empty_product(world, persons):  # noqa: F811 - fixtures
    today = world.today()
    start = today + dt.timedelta(days=1)
    end = start + dt.timedelta(days=89)

    create_workspace(world, persons, WORKSPACE)

    # rita names the freelancer she wants; the policy asks manager, procurement and legal.
    rita = persons.signed_in("rita", "/requests/new/")
    fill_request(
        rita,
        title="Website relaunch design",
        budget="6000",
        start=start,
        end=end,
        workspace=WORKSPACE,
        sourcing="direct",
        freelancer_email=FREELANCER,
        freelancer_country="PT",
    )
    rita.get_by_role("button", name="Save and submit for approval").click()
    expect(rita.locator("#request-state")).to_have_text("In Approval")
    reference = rita.get_by_role("heading", level=1).inner_text().split(" · ")[0]

    world.work()
    approve_through_mailed_link(world, persons, "max", reference)
    world.work()
    approve_in_inbox(persons, "paula", reference)
    world.work()

    # Legal sees, before deciding, that the freelancer has signed nothing yet...
    lena = persons.signed_in("lena", "/approvals/")
    lena.get_by_role("row").filter(has_text=reference).get_by_role("button", name="Decide").click()
    status = lena.locator("#freelancer-agreements")
    expect(status).to_have_text(re.compile(r"NDA\s+missing\s+·\s+MSA\s+missing"))
    persons.shoot(lena, "decision-agreements-missing")

    # ...and records the NDA and the MSA she has on file, signed elsewhere.
    lena.get_by_role("link", name="Record a signed agreement").click()
    record = lena.locator("section#record")
    expect(record.get_by_label("Email of the person")).to_have_value(FREELANCER)
    expect(record.get_by_label("Agreement")).to_have_value("NDA")
    record.get_by_label("Name").fill(NAME)
    nda_signed = today - dt.timedelta(days=2)
    record.get_by_label("Signed on").fill(nda_signed.isoformat())
    record.get_by_label("Evidence").fill("https://legal.contoso.example/signed/nora-lind-nda.pdf")
    record.get_by_role("button", name="Record agreement").click()
    expect(lena.get_by_role("status")).to_have_text(
        f"NDA of {NAME} recorded (signed {nda_signed.isoformat()})."
    )
    row = lena.get_by_role("row").filter(has_text=FREELANCER)
    row.get_by_role("link", name="Record MSA").click()
    expect(record.get_by_label("Agreement")).to_have_value("MSA")
    record.get_by_label("Signed on").fill(today.isoformat())
    record.get_by_label("Expires on").fill((today + dt.timedelta(days=730)).isoformat())
    record.get_by_label("or upload the signed copy").set_input_files(
        {"name": "nora-lind-msa.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    record.get_by_role("button", name="Record agreement").click()
    expect(lena.get_by_role("status")).to_contain_text(f"MSA of {NAME} recorded")
    row = lena.get_by_role("row").filter(has_text=FREELANCER)
    expect(row.locator(".badge")).to_have_text(["signed", "signed"])
    expect(row.get_by_role("link", name="nora-lind-msa.pdf")).to_be_visible()
    persons.shoot(lena, "agreements-recorded")

    lena.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    lena.get_by_role("row").filter(has_text=reference).get_by_role("button", name="Decide").click()
    expect(status).to_have_text(re.compile(r"NDA\s+signed\s+·\s+MSA\s+signed"))
    lena.get_by_role("radio", name="Approve").check()
    lena.get_by_role("button", name="Record decision").click()
    expect(lena.get_by_role("status")).to_have_text(f"Decision recorded for {reference}.")

    # Approved: a direct hire has no marketplace step; rita starts the contract herself.
    world.work()
    rita = engagement_page(persons, "rita", reference)
    expect(rita.locator("#engagement-state")).to_have_text("Sourcing")
    expect(rita.locator(".agreements-needed")).to_have_count(0)  # nothing missing any more
    section = rita.get_by_role("region", name="Start the contract")
    expect(section.get_by_label("Start date")).to_have_value(start.isoformat())
    expect(section.get_by_label("End date")).to_have_value(end.isoformat())
    persons.shoot(rita, "start-contract")
    section.get_by_role("button", name="Start the contract").click()
    expect(rita.get_by_role("status")).to_contain_text(f"starts on {start.isoformat()}")
    expect(rita.locator("#engagement-state")).to_have_text("Contracted")
    expect(rita.get_by_role("region", name="Start the contract")).to_have_count(0)
    world.work()
    world.work()
    ada = engagement_page(persons, "ada", reference)
    persons.shoot(ada, "contracted")

    guest = world.user(FREELANCER)
    assert guest is not None and guest["userType"] == "Guest", guest
    team = world.team(WORKSPACE)
    membership = world.team_membership(team["id"], guest["id"])
    assert membership is not None and membership["roles"] == ["guest"], membership
    tasks = [t for t in world.tasks(team["id"]) if guest["id"] in (t.get("assignments") or {})]
    assert sorted(t["title"].split(" (")[0] for t in tasks) == ["Brand guide", "Logo"], tasks
    share = world.folder_share(team["id"], FOLDER, FREELANCER)
    assert share is not None and share["roles"] == ["write"], share
    assert share["expirationDateTime"] == end_of_grace(end), (share, end)
    expect(ada.locator("#access-grants tbody tr").filter(has_text="folder")).to_contain_text(
        (end + dt.timedelta(days=3)).isoformat()
    )
    review_shows_share_until(persons, FREELANCER, end + dt.timedelta(days=3), "access-review")

    # The start day comes; the scheduler makes the engagement active (nobody has to).
    world.advance(2 * DAY)
    world.work()
    rita = engagement_page(persons, "rita", reference)
    expect(rita.locator("#engagement-state")).to_have_text("Active")
    expect(rita.locator("ol.timeline")).to_contain_text("contract started")
    assert persons.too_wide == [], persons.too_wide  # every page so far fits a phone

    world.advance(5 * DAY)
    ended_on = world.today()
    assert ended_on < end
    page = engagement_page(persons, "rita", reference)
    end_contract(page, "Thank you, Nora: the relaunch moved to next year.", persons)
    world.work()
    world.work()
    offboarding_cuts_access(world, persons, page, (team, FOLDER), (guest, FREELANCER), ended_on)
