"""The hub's pages, generated from examples/program.yaml: the facts people need, in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from gigbridge.program import hub
from gigbridge.program.policy import parse_policy

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "program.yaml"


@pytest.fixture(scope="module")
def policy():
    return parse_policy(EXAMPLE.read_text(), str(EXAMPLE))


@pytest.fixture(scope="module")
def pages(policy):
    names = {"carol.owner@contoso.example": "Carol Owner"}
    return {p.slug: p for p in hub.pages(policy, names)}


def test_the_pages_in_reading_order(policy):
    slugs = [p.slug for p in hub.pages(policy)]
    assert slugs == ["how-to-engage", "approvals", "budgets", "compliance", "access", "files",
                     "faq"]  # fmt: skip
    assert hub.page(policy, "nope") is None


def test_approval_rules_in_words_with_amounts_and_currency(pages):
    text = pages["approvals"].text()
    assert "For every request: The requester's line manager approves." in text
    assert "For requests of 5,000.00 EUR or more: Procurement approves." in text
    assert "For requests that touch confidential data: Legal approves." in text
    assert "For requests for contingent staff: HR approves." in text
    assert (
        "For requests of 25,000.00 EUR or more: Finance then the owner of the cost center "
        "approve, one after another in that order." in text
    )
    assert "HR confirms contingent staff do not drift into employment." in text
    assert "reminded after 2 days" in text and "after 5 days the program manager is told" in text
    assert "valid for 7 days" in text
    assert "cost_center_owner" not in text and "legal-confidential" not in text


def test_parallel_rule_is_said_so(policy):
    from gigbridge.program.policy import ApprovalRule

    rule = ApprovalRule(id="both", approvers=("legal", "hr"), mode="parallel")
    assert hub.who_words(rule) == "Legal and HR approve at the same time (in parallel)"


def test_budgets_with_owner_names_when_known(pages):
    budgets = dict(pages["budgets"].sections[0].facts)
    assert budgets["Marketing"] == (
        "120,000.00 EUR a year · owner Carol Owner (carol.owner@contoso.example)"
    )
    assert budgets["Engineering"].endswith("owner dan.owner@contoso.example")  # not known
    text = pages["budgets"].text()
    assert "reset each year in January" in text and "520,000.00 EUR" in text
    assert "1 USD counts as 0.92 EUR" in text


def test_compliance_in_plain_words_countries_by_name(pages):
    text = pages["compliance"].text()
    assert "An engagement lasts at most 180 days" in text
    assert "only 90 days after their last engagement ended" in text
    assert "Every freelancer signs NDA and MSA before the work starts." in text
    for name in ("Belarus", "Cuba", "Iran", "North Korea", "Russian Federation", "Syria"):
        assert name in text, name
    assert " KP" not in text and "CU," not in text


def test_access_and_files(pages):
    access = pages["access"].text()
    assert "read and change files" in access
    assert "the share expires 3 days after the contract ends" in access
    assert "The guest account is removed when their last engagement ends." in access
    assert "reported in the access review" in access
    files = pages["files"].text()
    assert "scanned for malware" in files and "quarantined like infected ones" in files


def test_step_by_step_and_faq(pages):
    steps = pages["how-to-engage"].sections[0]
    assert steps.ordered and len(steps.points) == 8
    assert "Upwork" in pages["how-to-engage"].text()
    faq = dict(pages["faq"].sections[0].questions)
    assert faq["Who approves a small request?"] == (
        "The requester's line manager only, as long as it is below 5,000.00 EUR and no other "
        "rule matches."
    )
    assert "Not from Belarus, Cuba" in faq["Can I hire someone from any country?"]
    assert "Marketing: Carol Owner" in faq["Who owns my cost center's budget?"]
    assert faq["When does the freelancer lose access?"].startswith("3 days after")


def test_country_names_and_unknown_codes():
    assert hub.country_name("KP") == "North Korea"
    assert hub.country_name("NO") == "Norway"
    assert hub.country_name("XX") == "XX"
