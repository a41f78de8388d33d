"""Milestones know their deliverables: the files since the previous milestone
(queries.since_last_milestone), the policy's rule that a milestone is approved only after a
clean one (files.rules, consulted by sourcing.milestones.approve through its approval checks),
and the milestone's section, mail and Teams card listing them."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core import mail

from conftest import EXAMPLE_POLICY
from gigbridge import clock
from gigbridge.audit.models import AuditEvent
from gigbridge.domainerrors import RuleViolation
from gigbridge.engagements.models import Engagement
from gigbridge.files import queries, rules
from gigbridge.files.models import Deliverable
from gigbridge.files.tests.records import deliverable, quarantined
from gigbridge.notifications import cards
from gigbridge.notifications.render import computed
from gigbridge.notifications.tasks import send_mail_job
from gigbridge.program.actions import activate_policy
from gigbridge.sourcing import milestones
from gigbridge.sourcing.models import MilestoneDecision
from gigbridge.sourcing.tests.test_marketplace import _contracted
from gigbridge.sourcing.tests.test_milestones import milestone

pytestmark = pytest.mark.django_db

Verdict, State = Deliverable.Verdict, Deliverable.State


def policy(needs_clean: bool) -> None:
    text = EXAMPLE_POLICY.read_text().replace("USD: 0.92", "USD: 1")
    text = text.replace(
        "milestone_needs_clean_deliverable: false",
        f"milestone_needs_clean_deliverable: {'true' if needs_clean else 'false'}",
    )
    activate_policy(text, "program.yaml", actor="tests")


@pytest.fixture
def contracted(people, frozen_now):
    policy(False)
    engagement = _contracted(people)
    Engagement.objects.filter(pk=engagement.pk).update(contract_start=dt.date(2026, 11, 20))
    engagement.refresh_from_db()
    return engagement


@pytest.fixture
def two_milestones(contracted, frozen_now):
    """Milestone 1 submitted at 09:00, milestone 2 submitted a day later."""
    first = milestone(contracted, "m1", "500.00", sequence=1, description="Concepts")
    frozen_now(days=1)
    second = milestone(contracted, "m2", "700.00", sequence=2, description="Final logo")
    return first, second


# --- which files belong to a milestone ---------------------------------------------------------


def test_the_files_since_the_previous_milestone_was_submitted(contracted, two_milestones):
    first, second = two_milestones
    before = deliverable(contracted, "sketch.png", added_at=first.submitted_at - dt.timedelta(1))
    after = deliverable(contracted, "logo.svg", added_at=first.submitted_at + dt.timedelta(hours=1))
    assert list(queries.since_last_milestone(second)) == [after]
    # The first milestone counts every file of the contract (access may come before its first
    # day), so both are its.
    assert set(queries.since_last_milestone(first)) == {before, after}
    window = queries.milestone_window(second)
    assert window.words() == "since the previous milestone was submitted (2026-12-01 09:00)"
    assert queries.milestone_window(first).words() == "since the contract was made"


def test_an_approved_milestone_keeps_only_the_files_up_to_its_approval(
    contracted, two_milestones, frozen_now
):
    first, _ = two_milestones
    deliverable(contracted, "early.svg", added_at=first.submitted_at)
    type(first).objects.filter(pk=first.pk).update(approved_at=first.submitted_at + dt.timedelta(1))
    first.refresh_from_db()
    deliverable(contracted, "late.svg", added_at=first.submitted_at + dt.timedelta(days=3))
    assert [d.name for d in queries.since_last_milestone(first)] == ["early.svg"]


# --- the rule ------------------------------------------------------------------------------------


def test_without_the_rule_a_milestone_is_approved_with_no_files(people, two_milestones):
    _, second = two_milestones
    assert rules.clean_deliverable(second) == []
    milestones.approve(people["rita"], second)
    assert MilestoneDecision.objects.filter(milestone=second).exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"verdict": Verdict.PENDING},
        {"verdict": Verdict.TOO_LARGE},
        {"verdict": Verdict.FAILED},
        {"verdict": Verdict.INFECTED, "state": State.QUARANTINED},
        {"verdict": Verdict.CLEAN, "state": State.QUARANTINING},  # a clean file being blocked
        "before the previous milestone",
    ],
)
def test_with_the_rule_only_a_clean_file_in_the_folder_since_the_previous_milestone_counts(
    people, contracted, two_milestones, fields
):
    policy(True)
    first, second = two_milestones
    if fields == "before the previous milestone":
        deliverable(contracted, added_at=first.submitted_at - dt.timedelta(minutes=1))
    else:
        deliverable(contracted, added_at=clock.now(), **fields)
    with pytest.raises(RuleViolation) as refused:
        milestones.approve(people["rita"], second)
    [problem] = refused.value.problems
    assert problem.rule == "files.milestone_needs_clean_deliverable"
    assert problem.message == (
        "no deliverable scanned clean has arrived in the project folder since the previous "
        "milestone was submitted (2026-12-01 09:00): the program asks for at least one before "
        "a milestone is approved"
    )
    assert not MilestoneDecision.objects.exists()
    event = AuditEvent.objects.get(action="marketplace.milestone_approval_refused")
    assert "files.milestone_needs_clean_deliverable" in str(event.after["problems"])


def test_with_the_rule_a_clean_file_lets_the_milestone_be_approved(
    people, contracted, two_milestones
):
    policy(True)
    _, second = two_milestones
    quarantined(contracted, added_at=clock.now())
    deliverable(contracted, added_at=clock.now())
    decision = milestones.approve(people["rita"], second, Decimal("700.00"))
    assert decision.amount == Decimal("700.00")


def test_the_rule_and_the_amount_are_both_named_when_both_fail(people, two_milestones):
    policy(True)
    _, second = two_milestones
    with pytest.raises(RuleViolation) as refused:
        milestones.approve(people["rita"], second, Decimal("900.00"))
    assert [p.field for p in refused.value.problems] == ["amount", ""]


# --- the page, the mail and the card -------------------------------------------------------------


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def milestone_item(html: str, pk: int) -> str:
    """The words of one milestone's item on the engagement page."""
    part = html.split(f'id="milestone-{pk}"')[1]
    return words(re.split(r'<li id="milestone-|</section>', part)[0])


def test_each_milestone_lists_its_files_and_why_approval_is_refused(
    client, people, contracted, two_milestones
):
    policy(True)
    first, second = two_milestones
    deliverable(contracted, "sketch.png", added_at=first.submitted_at - dt.timedelta(hours=1))
    quarantined(contracted, added_at=clock.now())
    client.force_login(people["rita"])
    html = client.get(f"/engagements/{contracted.pk}/").content.decode()
    second_item = milestone_item(html, second.pk)
    assert "Files since the previous milestone: 1, 0 scanned clean." in second_item
    assert "invoice.exe version 1.0 · 14.2 KB · Ana Freelance, 2026-12-02 09:00" in second_item
    assert "infected (Eicar-Test-Signature), quarantined" in second_item
    assert "sketch.png" not in second_item
    assert "Approving is refused now: no deliverable scanned clean" in second_item
    assert "(policy rule: files.milestone_needs_clean_deliverable)" in second_item
    first_item = milestone_item(html, first.pk)
    assert "sketch.png" in first_item and "Files since the previous milestone: 2" in first_item


def milestone_mail(engagement, milestone_row, user) -> str:
    context = {
        "reference": engagement.reference,
        "title": engagement.request.title,
        "engagement_id": engagement.pk,
        "milestone_id": milestone_row.pk,
        "milestone": milestone_row.description,
    }
    mail.outbox.clear()
    send_mail_job({"user_id": user.pk, "template": "milestone_submitted", "context": context})
    [sent] = mail.outbox
    return sent.body, context


def test_the_mail_and_card_list_the_files_as_they_are_when_sent(people, contracted, two_milestones):
    policy(True)
    _, second = two_milestones
    deliverable(contracted, "logo.svg", size=2_202_009, added_at=clock.now())
    quarantined(contracted, added_at=clock.now())
    body, context = milestone_mail(contracted, second, people["rita"])
    assert "Files from the freelancer since the previous milestone: 2, 1 scanned clean:" in body
    assert "- logo.svg (version 1.0, 2.1 MB) by Ana Freelance, 2026-12-02 09:00: clean" in body
    assert (
        "- invoice.exe (version 1.0, 14.2 KB) by Ana Freelance, 2026-12-02 09:00: "
        "infected (Eicar-Test-Signature), quarantined"
    ) in body
    assert "refused" not in body  # a clean file arrived
    card = cards.notice_card(
        "milestone_submitted", {"base_url": "", **context, **computed("milestone_submitted",
                                                                        context)}
    )  # fmt: skip
    texts = [block.get("text", "") for block in card["body"]]
    assert "Files since the previous milestone: 2, 1 scanned clean:" in texts
    assert any("- logo.svg (version 1.0, 2.1 MB) by Ana Freelance" in t for t in texts)


def test_the_mail_says_when_no_file_arrived_and_that_approval_is_refused(
    people, contracted, two_milestones
):
    policy(True)
    _, second = two_milestones
    body, context = milestone_mail(contracted, second, people["rita"])
    assert "No files from the freelancer have arrived in the project folder" in body
    assert "Approving it is refused for now: no deliverable scanned clean" in body
    card = cards.notice_card(
        "milestone_submitted", {"base_url": "", **context, **computed("milestone_submitted",
                                                                        context)}
    )  # fmt: skip
    attention = [b for b in card["body"] if b.get("color") == "Attention"]
    assert attention and "refused for now" in attention[0]["text"]


def test_approving_on_the_page_is_refused_with_the_rule_then_works_with_a_clean_file(
    client, people, contracted, two_milestones
):
    policy(True)
    _, second = two_milestones
    client.force_login(people["rita"])
    url = f"/engagements/{contracted.pk}/milestones/{second.pk}/approve/"
    answer = client.post(url, {"amount": "700.00"}, follow=True)
    assert "Not approved: no deliverable scanned clean has arrived" in answer.content.decode()
    assert not MilestoneDecision.objects.exists()
    deliverable(contracted, added_at=clock.now())
    answer = client.post(url, {"amount": "700.00"}, follow=True)
    assert "Approved: 700.00 USD" in answer.content.decode()
    assert MilestoneDecision.objects.get().milestone == second


def test_the_api_refuses_the_approval_naming_the_rule(api, contracted, two_milestones):
    policy(True)
    _, second = two_milestones
    answer = api("rita").post(
        f"/api/v1/engagements/{contracted.pk}/milestones/{second.pk}/approve",
        '{"amount": "700.00"}',
        content_type="application/json",
    )
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["rule"] == "files.milestone_needs_clean_deliverable"
    assert error["field"] == "(request)"
