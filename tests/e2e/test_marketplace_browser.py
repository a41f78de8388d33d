"""The marketplace story on the engagement page, against the real sandbox marketplace (Upwork).

The request and its approvals are done through actions (test_browser_flow drives those pages);
the browser is for the marketplace part: the hiring manager sees the proposals, shortlists and
picks one, follows the offer to a contract and sees the payment and the budget used. What the
marketplace does in between (posting the job, freelancers proposing and accepting, a milestone
being submitted and approved) happens by running the outbox jobs and sync passes in this process
and moving the sandbox clock, as tests/scenarios/test_marketplace.py does, never by sleeping.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from gigbridge.engagements.models import Engagement
from gigbridge.sourcing import actions as marketplace
from gigbridge.sourcing.models import MarketplaceOffer, Payment
from tests.scenarios import conftest as scenarios
from tests.scenarios.conftest import run_jobs
from tests.scenarios.marketplace_story import (
    HOUR,
    SUBMITTED_WITHIN,
    good_proposal,
    pass_of_sync,
    proposals_arrive,
    signed_freelancer,
    sourced_and_posted,
)

from .conftest import sign_in, sign_out
from .test_browser_flow import CONTROLS, DANGLING, UNLABELLED

pytestmark = pytest.mark.browser

# The product's Upwork settings pointed at the (session's one) sandbox marketplace.
market = scenarios.market

# The example policy's request budget is 4000 EUR and 1 USD counts as 0.92 EUR: an offer may
# cost at most 4347.82 USD (rounded down, so the limit stays within the budget).
LIMIT = "4347.82"


def open_engagement(page: Page, engagement: Engagement) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Engagements").click()
    page.get_by_role("row").filter(has_text=engagement.reference).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(engagement.reference)


def marketplace_section(page: Page):
    return page.get_by_role("region", name="Marketplace and spend")


def proposal_row(page: Page, name: str):
    return marketplace_section(page).locator("#proposals tbody tr").filter(has_text=name)


def assert_accessible(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^[a-z]{2}"))
    expect(page.locator("h1")).to_have_count(1)
    assert page.eval_on_selector_all(CONTROLS, UNLABELLED) == []
    assert page.locator("main [aria-describedby]").evaluate_all(DANGLING) == []


@pytest.fixture
def with_proposals(people, market):
    """rita's approved 4000 EUR fixed-price marketplace request: posted, proposals synced."""
    engagement = sourced_and_posted(people, market)
    proposals = proposals_arrive(market, engagement)
    assert 3 <= len(proposals) <= 5
    assert marketplace.offer_limit(engagement.request) == Decimal(LIMIT)
    return engagement, proposals


def test_hiring_manager_picks_a_proposal_and_follows_it_to_payment(page, market, with_proposals):
    engagement, proposals = with_proposals
    chosen = good_proposal(engagement)
    signed_freelancer(chosen)  # HR has the freelancer's NDA and MSA on file

    sign_in(page, "rita")
    open_engagement(page, engagement)
    state = page.locator("#engagement-state")
    expect(state).to_have_text("Sourcing")
    section = marketplace_section(page)
    expect(section.locator("#proposals tbody tr")).to_have_count(len(proposals))
    for proposal in proposals:
        row = proposal_row(page, proposal.freelancer_name)
        expect(row).to_have_count(1)
        if proposal.profile_url:  # the freelancer's profile on the marketplace
            expect(row.get_by_role("link", name=proposal.freelancer_name)).to_have_attribute(
                "href", proposal.profile_url
            )
    assert_accessible(page)

    row = proposal_row(page, chosen.freelancer_name)
    row.get_by_role("button", name="Shortlist").click()
    expect(page.get_by_role("status")).to_have_text(f"{chosen.freelancer_name} is shortlisted.")
    row = proposal_row(page, chosen.freelancer_name)
    expect(row.locator("td").nth(2)).to_contain_text("shortlisted")
    expect(row.get_by_role("button", name="Shortlist")).to_have_count(0)

    # The amount is in the marketplace's currency, its limit the EUR budget converted.
    expect(page.locator(".facts").first).to_contain_text("4,000.00 EUR")
    amount = row.get_by_label(f"Amount (USD, at most {LIMIT})")
    expect(amount).to_have_value(LIMIT)
    amount.fill("3000")
    row.get_by_role("button", name="Pick and send offer").click()

    expect(page.get_by_role("status")).to_have_text(
        f"The offer to {chosen.freelancer_name} is on its way."
    )
    expect(state).to_have_text("Offered")
    offers = page.locator("#offers li")
    expect(offers).to_have_text(["fixed_price offer for up to 3,000.00 USD: queued"])
    expect(section.get_by_role("button", name="Pick and send offer")).to_have_count(0)
    expect(proposal_row(page, chosen.freelancer_name).locator("td").nth(2)).to_contain_text(
        "picked"
    )

    run_jobs(marketplace.SHORTLIST_JOB)
    run_jobs(marketplace.OFFER_JOB)
    offer = MarketplaceOffer.objects.get(engagement=engagement)
    assert offer.state == MarketplaceOffer.State.OPEN and offer.upwork_id, offer.error
    page.reload()
    expect(offers).to_have_text(
        [f"fixed_price offer {offer.upwork_id} for up to 3,000.00 USD: open"]
    )

    # The freelancer accepts within hours; the next pass finds the contract.
    market.advance(7 * HOUR)
    assert pass_of_sync(market)["contracted"] == 1
    engagement.refresh_from_db()
    contract_id = engagement.sourcing.contract_id
    page.reload()
    expect(state).to_have_text("Contracted")
    expect(state).to_have_class(re.compile(r"\bcontracted\b"))
    facts = section.locator(".facts")
    expect(facts).to_contain_text(f"{contract_id} ACTIVE")
    expect(page.locator(".facts").first).to_contain_text(chosen.freelancer_name)

    # The milestone is funded on acceptance and submitted within days.
    market.advance(SUBMITTED_WITHIN)
    assert pass_of_sync(market)["milestones"] == 1
    milestone = engagement.milestones.get()
    page.reload()
    expect(page.locator("#milestones li")).to_have_count(1)
    expect(page.locator("#milestones li")).to_contain_text("submitted")

    # The client approves it on the marketplace: a payment, in USD, counted in EUR.
    from gigbridge.integrations.upwork import connection
    from gigbridge.integrations.upwork import operations as ops

    ops.approve_milestone(
        connection.client(market.org), milestone.upwork_id, amount=milestone.amount
    )
    market.advance(HOUR)
    assert pass_of_sync(market)["payments"] == 1
    payment = Payment.objects.get(engagement=engagement)
    page.reload()
    expect(page.locator("#milestones li")).to_contain_text("paid")
    payments = section.locator("#payments tbody tr").filter(has_text="payment")
    expect(payments).to_have_count(1)
    paid_on = timezone.localdate(payment.paid_at).isoformat()  # as the page shows it
    expect(payments.locator("td").nth(0)).to_have_text(paid_on)
    expect(payments.locator("td").nth(2)).to_have_text("3,000.00 USD (2,760.00 EUR)")
    expect(page.locator("#budget-used")).to_contain_text("2,760.00 EUR of 4,000.00 EUR")
    assert_accessible(page)


def test_an_amount_above_the_limit_is_refused_at_the_field(page, with_proposals):
    engagement, _ = with_proposals
    chosen = good_proposal(engagement)
    signed_freelancer(chosen)

    sign_in(page, "rita")
    open_engagement(page, engagement)
    row = proposal_row(page, chosen.freelancer_name)
    row.get_by_label("Amount (USD").fill("4500")
    row.get_by_role("button", name="Pick and send offer").click()

    # Next to the field, in its own label, announced as an alert; nothing else is in alert.
    row = proposal_row(page, chosen.freelancer_name)
    label = row.locator("label").filter(has=page.locator("input[name=amount]"))
    errors = label.get_by_role("alert")
    expect(errors).to_contain_text(
        "the offer can cost 4500.00 USD (4140.00 EUR at the policy's exchange rate), more than "
        "the approved budget of 4000.00 EUR (policy rule: budget)"
    )
    expect(page.locator("main").get_by_role("alert")).to_have_count(1)
    amount = row.get_by_label("Amount (USD")
    expect(amount).to_have_value("4500")  # what was typed survives
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_accessible_description(re.compile("more than the approved budget"))
    # Only that proposal's form is marked.
    expect(page.locator("#proposals input[name=amount][aria-invalid]")).to_have_count(1)
    expect(page.locator("#engagement-state")).to_have_text("Sourcing")
    expect(page.locator("#offers li")).to_have_text(["No offer yet."])
    assert_accessible(page)
    assert not MarketplaceOffer.objects.filter(engagement=engagement).exists()

    # Not a number is refused at the field too (it used to be a server error).
    amount.fill("4,000")
    row.get_by_role("button", name="Pick and send offer").click()
    expect(label.get_by_role("alert")).to_have_text("'4,000' is not a number")
    expect(page.locator("main").get_by_role("alert")).to_have_count(1)

    # Corrected, the same form sends the offer.
    amount.fill("4000")
    row.get_by_role("button", name="Pick and send offer").click()
    expect(page.get_by_role("status")).to_have_text(
        f"The offer to {chosen.freelancer_name} is on its way."
    )
    expect(page.locator("#offers li")).to_have_text(
        ["fixed_price offer for up to 4,000.00 USD: queued"]
    )


def test_only_the_hiring_manager_or_an_admin_can_shortlist_and_pick(page, with_proposals):
    engagement, proposals = with_proposals
    chosen = good_proposal(engagement)

    # max approved the request: he sees the engagement and its proposals, but no actions.
    sign_in(page, "max")
    open_engagement(page, engagement)
    section = marketplace_section(page)
    expect(section.locator("#proposals tbody tr")).to_have_count(len(proposals))
    expect(proposal_row(page, chosen.freelancer_name)).to_have_count(1)
    expect(section.get_by_role("button")).to_have_count(0)
    expect(section.locator("input, select, textarea")).to_have_count(0)
    assert_accessible(page)

    # Sent anyway (with his valid CSRF token), the pick is refused and nothing is queued.
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRFToken"]
    response = page.request.post(
        f"/engagements/{engagement.pk}/proposals/{chosen.pk}/pick/",
        headers={"X-CSRFToken": token},
        form={"amount": "3000"},
    )
    assert response.status == 403, response.text()
    assert "only the hiring manager or a program admin" in response.text()
    assert not MarketplaceOffer.objects.filter(engagement=engagement).exists()
    sign_out(page)

    # A program admin may act for the hiring manager.
    sign_in(page, "ada")
    open_engagement(page, engagement)
    row = proposal_row(page, chosen.freelancer_name)
    expect(row.get_by_role("button", name="Shortlist")).to_be_visible()
    expect(row.get_by_role("button", name="Pick and send offer")).to_be_visible()
    expect(row.get_by_label(f"Amount (USD, at most {LIMIT})")).to_have_value(LIMIT)
    assert_accessible(page)
