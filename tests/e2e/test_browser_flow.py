"""What people do in the browser: ask for help, approve it, follow mailed links.

Elements are found by role and label, the way assistive technology finds them, so a page that
loses a label or a heading fails here too.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from conftest import request_payload
from gigbridge import clock

from .conftest import sign_in, sign_out

pytestmark = pytest.mark.browser


def fill_request_form(page: Page, *, start: dt.date, end: dt.date) -> None:
    # Fields are found by their visible labels, as a screen reader user would find them.
    page.get_by_label("Title").fill("Brand refresh for the spring campaign")
    page.get_by_label("Description").fill("A new visual identity for the campaign.")
    page.get_by_label("Deliverables").fill("Logo\nBrand guide")
    page.get_by_label("Skills").fill("figma, branding")
    page.get_by_label("Task category").select_option("design")
    page.get_by_label("Worker category").select_option("freelancer")
    page.get_by_label("Cost center").select_option("CC-MKT")
    page.get_by_label("Pricing").select_option("fixed")
    page.get_by_label("Budget").fill("8000")
    expect(page.get_by_label("Currency")).to_have_value("EUR")  # the program's, prefilled
    page.get_by_label("Start date").fill(start.isoformat())
    page.get_by_label("End date").fill(end.isoformat())
    page.get_by_label("Data classification").select_option("confidential")
    page.get_by_label("Sourcing").select_option("marketplace")


def approve_from_inbox(page: Page, username: str, reference: str) -> None:
    sign_in(page, username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    row = page.get_by_role("row").filter(has_text=reference)
    row.get_by_role("button", name="Decide").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    page.get_by_role("radio", name="Approve").check()
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_have_text(f"Decision recorded for {reference}.")
    sign_out(page)


def test_request_is_approved_by_the_whole_chain_and_becomes_an_engagement(page, people, settings):
    start = clock.today() + dt.timedelta(days=21)

    sign_in(page, "rita")
    # Styled as a button (role="button"), so that is what assistive technology announces.
    page.get_by_role("button", name="New request").click()
    fill_request_form(page, start=start, end=start + dt.timedelta(days=60))
    page.get_by_role("button", name="Save and submit for approval").click()

    state = page.locator("#request-state")
    expect(state).to_have_text("In Approval")
    expect(state).to_have_class(re.compile(r"\bin_approval\b"))
    reference = page.get_by_role("heading", level=1).inner_text().split(" · ")[0]
    assert re.fullmatch(r"WR-\d{6}", reference)

    approvals = page.locator("section").filter(
        has=page.get_by_role("heading", name="Approvals", exact=True)
    )
    steps = approvals.locator("tbody tr")
    # One stage per matching rule, in policy order; only the first is open yet.
    expect(steps).to_have_count(3)
    for row, (role, rule, step_state) in zip(
        steps.all(),
        [
            ("manager", "manager", "Pending"),
            ("procurement", "procurement-over-5k", "waiting for an earlier stage"),
            ("legal", "legal-confidential", "waiting for an earlier stage"),
        ],
        strict=True,
    ):
        expect(row.locator("td").nth(1)).to_have_text(role)
        expect(row.locator("td").nth(2)).to_contain_text(rule)
        expect(row.locator("td").nth(4)).to_have_text(step_state)
    sign_out(page)

    for approver in ("max", "paula", "lena"):
        approve_from_inbox(page, approver, reference)

    sign_in(page, "rita")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Engagements").click()
    page.get_by_role("row").filter(has_text=reference).get_by_role("link").click()

    expect(page.locator("#engagement-state")).to_have_text("Sourcing")
    expect(page.locator("#engagement-state")).to_have_class(re.compile(r"\bsourcing\b"))
    events = page.locator("ol.timeline > li")
    sentences = events.locator(".sentence")
    # A subset, in order: the timeline also shows each stage being opened.
    expect(sentences).to_contain_text(
        [
            f"Rita Requester submitted {reference}; the policy asked manager, procurement, legal",
            f"Max Manager approved {reference} as manager",
            f"Paula Procurement approved {reference} as procurement",
            f"Lena Legal approved {reference} as legal",
            f"{reference} was approved",
            "Gigbridge opened EN-",
        ]
    )
    # The sentences link to what they name.
    expect(sentences.filter(has_text="Max Manager approved").get_by_role("link")).to_have_text(
        reference
    )

    screens = settings.DATA_DIR / "screens"
    screens.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screens / "engagement.png"), full_page=True)


def test_request_longer_than_the_policy_allows_shows_the_rule_at_the_field(page, people):
    from gigbridge.engagements.models import WorkRequest

    start = clock.today() + dt.timedelta(days=14)
    sign_in(page, "rita")
    page.goto("/requests/new/")
    fill_request_form(page, start=start, end=start + dt.timedelta(days=200))
    page.get_by_role("button", name="Save and submit for approval").click()

    # Next to the field: in the end date's own label, announced as an alert.
    end_label = page.locator("label[for=id_end_date]")
    errors = end_label.get_by_role("alert")
    expect(errors).to_contain_text("compliance.max_engagement_days")
    expect(errors).to_contain_text("at most 180")
    expect(end_label.locator("#id_end_date")).to_be_visible()
    expect(page.locator("main").get_by_role("alert")).to_have_count(1)  # only that field
    # What was typed survives, so fixing it is one change.
    expect(page.get_by_label("Title")).to_have_value("Brand refresh for the spring campaign")
    expect(page.get_by_role("heading", level=1)).to_have_text("New work request")
    assert WorkRequest.objects.count() == 0


def submitted_request(people):
    from gigbridge.engagements import actions
    from gigbridge.program.models import CostCenter

    data = request_payload(budget="8000.00", data_classification="confidential")
    # request_payload speaks the API's JSON; the action wants Python values.
    data["cost_center"] = CostCenter.objects.get(code=data["cost_center"])
    for field in ("start_date", "end_date"):
        data[field] = dt.date.fromisoformat(data[field])
    work_request = actions.create_request(people["rita"], data)
    return actions.submit_request(people["rita"], work_request)


def test_mailed_decision_link_works_once_for_its_recipient_only(
    page, people, base_url, deliver_mail
):
    from gigbridge.audit.models import AuditEvent
    from gigbridge.engagements.models import ApprovalStep, DecisionLink

    work_request = submitted_request(people)
    to_max = [m for m in deliver_mail() if m.to == ["max@contoso.example"]]
    assert len(to_max) == 1
    match = re.search(r"^(http://\S+/a/([^/\s]+)/)$", to_max[0].body, re.MULTILINE)
    assert match, to_max[0].body
    url, token = match.groups()
    assert url.startswith(base_url)

    # Not signed in yet: the link leads through the login page and back to the decision.
    page.goto(url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, "max")
    expect(page).to_have_url(url)
    expect(page.get_by_role("heading", level=1)).to_contain_text(work_request.reference)
    page.get_by_role("radio", name="Approve").check()
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Decision recorded for {work_request.reference}."
    )

    step = ApprovalStep.objects.get(request=work_request, role="manager")
    link = DecisionLink.objects.get(step=step, user=people["max"])
    assert (step.state, step.decided_by, link.used_at is not None) == (
        "approved",
        people["max"],
        True,
    )
    used_at = link.used_at

    def nothing_changed():
        step.refresh_from_db()
        link.refresh_from_db()
        assert (step.state, step.decided_by, link.used_at) == ("approved", people["max"], used_at)
        approvals = AuditEvent.objects.filter(action__startswith="approval.approve")
        assert approvals.count() == 1

    def refused(message: str) -> None:
        expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
        expect(page.get_by_role("alert")).to_contain_text(message)
        expect(page.get_by_role("button", name="Record decision")).to_have_count(0)
        nothing_changed()

    page.goto(url)
    refused("already used")

    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    page.goto(f"/a/{tampered}/")
    refused("not valid")

    sign_out(page)
    sign_in(page, "paula")
    page.goto(url)
    refused("sent to someone else")


MAIN_PAGES = [
    "/requests/",
    "/requests/new/",
    "/approvals/",
    "/engagements/",
    "/policy/",
    "/audit/",
    "/me/",
]

# Controls with no accessible name: no <label>, no aria-label, no aria-labelledby.
UNLABELLED = """els => els
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby'))
  .map(e => e.name || e.id || e.outerHTML)"""
CONTROLS = "main :is(input:not([type=hidden]), select, textarea)"


@pytest.mark.parametrize("path", MAIN_PAGES)
def test_main_pages_have_one_h1_a_language_and_labelled_controls(page, people, path):
    # The program admin sees every page, the audit log included; the request form is for
    # requesters only.
    sign_in(page, "rita" if path == "/requests/new/" else "ada")
    response = page.goto(path)
    assert response is not None and response.ok, f"{path} answered {response and response.status}"
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^[a-z]{2}"))
    expect(page.locator("h1")).to_have_count(1)
    assert page.eval_on_selector_all(CONTROLS, UNLABELLED) == []


def test_every_new_request_field_has_a_label(page, people):
    from gigbridge.engagements.forms import RequestForm

    sign_in(page, "rita")
    page.goto("/requests/new/")
    controls = page.locator("main form").locator(":is(input:not([type=hidden]), select, textarea)")
    expect(controls).to_have_count(len(RequestForm.base_fields))
    assert controls.evaluate_all(UNLABELLED) == []
    # ...and each is named by its own label, not by a neighbour's.
    for name, field in RequestForm.base_fields.items():
        label = field.label or name.replace("_", " ").capitalize()
        expect(page.get_by_label(label)).to_have_attribute("name", name)


# Django 5.2 widgets point aria-describedby at "<id>_helptext" and "<id>_error"; the template
# must give its help text and error list exactly those ids, or the references dangle.
DANGLING = """els => els.flatMap(e => (e.getAttribute('aria-describedby') || '').split(/\\s+/)
  .filter(id => id && !document.getElementById(id)).map(id => `${e.name} -> #${id}`))"""


def test_help_and_errors_are_the_fields_description(page, people):
    start = clock.today() + dt.timedelta(days=14)
    sign_in(page, "rita")
    page.goto("/requests/new/")
    fill_request_form(page, start=start, end=start + dt.timedelta(days=200))
    page.get_by_role("button", name="Save and submit for approval").click()

    expect(page.get_by_label("End date")).to_have_attribute("aria-invalid", "true")
    dangling = page.locator("main form [aria-describedby]").evaluate_all(DANGLING)
    assert dangling == []
    expect(page.get_by_label("End date")).to_have_accessible_description(
        re.compile("compliance.max_engagement_days")
    )
    expect(page.get_by_label("Deliverables")).to_have_accessible_description(
        "One deliverable per line (at most 50); each becomes a task."
    )
