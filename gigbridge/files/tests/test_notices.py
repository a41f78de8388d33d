"""What people are told about a quarantined or unscanned file (the notice kind
``deliverable_quarantined``: its mails and Teams cards, with the context the scan job sends),
and how the files app's audit events read on the timelines."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from gigbridge.audit.actions import record
from gigbridge.audit.describe import describe
from gigbridge.notifications import cards, kinds
from gigbridge.notifications.render import computed
from gigbridge.notifications.tasks import send_mail_job
from gigbridge.sourcing.tests.test_marketplace import approved_engagement

pytestmark = pytest.mark.django_db


@pytest.fixture
def engagement(people):
    return approved_engagement(people)


def context(engagement, **overrides) -> dict:
    """The context files.scan sends with both templates (files-contracts.md, part C)."""
    values = {
        "deliverable_id": 7,
        "engagement_id": engagement.pk,
        "engagement": engagement.reference,
        "title": engagement.request.title,
        "file": "invoice.exe",
        "version": "2.0",
        "size": 68,
        "author": "Ana Freelance",
        "folder": "Brand refresh/Round 2",
        "verdict": "infected",
        "verdict_label": "infected",
        "signature": "Eicar-Test-Signature",
        "quarantined": True,
    }
    values.update(overrides)
    return values


def sent(payload: dict):
    mail.outbox.clear()
    send_mail_job(payload)
    [message] = mail.outbox
    return message


def test_the_kind_routes_both_templates_under_one_name():
    assert kinds.kind_of("deliverable_quarantined") == "deliverable_quarantined"
    assert kinds.kind_of("deliverable_unscanned") == "deliverable_quarantined"
    assert kinds.BY_KEY["deliverable_quarantined"].label == "Files quarantined or not scanned"


def test_the_hiring_manager_is_mailed_what_was_found_and_what_to_do(people, engagement):
    message = sent(
        {
            "user_id": people["rita"].pk,
            "template": "deliverable_quarantined",
            "context": context(engagement),
        }
    )
    assert message.to == ["rita@contoso.example"]
    assert message.subject == (
        f"Quarantined: invoice.exe from {engagement.reference} {engagement.request.title}"
    )
    body = message.body
    assert body.startswith("Hello Rita Requester,")
    assert (
        'Ana Freelance added "invoice.exe" (version 2.0, 68 bytes) to the project folder of '
        f'{engagement.reference} "{engagement.request.title}", in Brand refresh/Round 2.'
    ) in body
    assert "The virus scanner found it infected: Eicar-Test-Signature." in body
    assert "only security reviewers can open" in body
    assert "/deliverables/quarantine/#deliverable-7" in body
    assert f"/engagements/{engagement.pk}/" in body


def test_a_security_contact_without_an_account_is_mailed_by_address(engagement):
    message = sent(
        {
            "to": "soc@contoso.example",
            "template": "deliverable_quarantined",
            "context": context(
                engagement,
                verdict="too_large",
                verdict_label="not scanned: too large",
                signature="",
                size=3 * 1024**3,
                quarantined=False,
            ),
        }
    )
    assert message.to == ["soc@contoso.example"]
    assert message.subject.startswith("Blocked: invoice.exe from")
    assert message.body.startswith("Hello,")
    assert "(version 2.0, 3.00 GB)" in message.body
    assert "too large for the virus scanner" in message.body


def test_an_allowed_unscanned_file_is_told_as_such(people, engagement):
    message = sent(
        {
            "user_id": people["rita"].pk,
            "template": "deliverable_unscanned",
            "context": context(
                engagement,
                verdict="too_large",
                verdict_label="not scanned: too large",
                signature="",
                size=150 * 1024**2,
                quarantined=False,
            ),
        }
    )
    assert message.subject.startswith("Not scanned (too large): invoice.exe from EN-")
    assert "(version 2.0, 150.0 MB)" in message.body
    assert 'it is there, recorded as "not scanned: too large"' in message.body


@pytest.mark.parametrize(
    ("template", "heading", "actions"),
    [
        ("deliverable_quarantined", "Quarantined: invoice.exe from", 2),
        ("deliverable_unscanned", "Not scanned (too large): invoice.exe from", 1),
    ],
)
def test_the_teams_cards_show_what_the_mails_show(engagement, template, heading, actions):
    values = context(engagement)
    card = cards.notice_card(template, {"base_url": "", **values, **computed(template, values)})
    assert card["body"][0]["text"].startswith(heading)
    assert cards.summary(template, {**values, **computed(template, values)}).startswith(heading)
    shown = {f["title"]: f["value"] for b in card["body"] if b["type"] == "FactSet"
             for f in b["facts"]}  # fmt: skip
    assert shown["Size"] == "68 bytes" and shown["Added by"] == "Ana Freelance"
    assert shown["Engagement"] == f"{engagement.reference} {engagement.request.title}"
    buttons = card["body"][-1]["actions"]
    assert len(buttons) == actions
    assert buttons[0]["url"].endswith(f"/engagements/{engagement.pk}/")


# --- the timeline's sentences --------------------------------------------------------------


def sentence(engagement, action: str, after: dict) -> str:
    with transaction.atomic():
        event = record(user=None, actor="system", action=action, obj=engagement, after=after)
    return describe(event).text


@pytest.mark.parametrize(
    ("action", "after", "expected"),
    [
        (
            "deliverable.recorded",
            {"deliverable": 7, "file": "logo.svg", "version": "3.0", "size": 2_202_009,
             "author": "Ana Freelance"},
            "Ana Freelance added “logo.svg” (version 3.0), 2.1 MB, to {ref}",
        ),
        (
            "deliverable.scanned",
            {"deliverable": 7, "file": "logo.svg", "version": "3.0", "verdict": "clean",
             "sha256": "ab" * 32},
            "Gigbridge scanned “logo.svg” (version 3.0) of {ref}: clean",
        ),
        (
            "deliverable.scanned",
            {"deliverable": 7, "verdict": "infected", "signature": "Eicar-Test-Signature"},
            "Gigbridge scanned a file of {ref}: infected (Eicar-Test-Signature)",
        ),
        (
            "deliverable.scanned",
            {"deliverable": 7, "file": "film.mov", "version": "1.0", "verdict": "too_large"},
            "Gigbridge scanned “film.mov” (version 1.0) of {ref}: not scanned: too large for "
            "the scanner",
        ),
        (
            "deliverable.quarantined",
            {"deliverable": 7, "file": "invoice.exe", "version": "2.0",
             "restored_version": "1.0"},
            "Gigbridge quarantined “invoice.exe” (version 2.0) of {ref}: out of everyone's "
            "reach; version 1.0 is current again",
        ),
        (
            "deliverable.returned",
            {"deliverable": 7, "file": "invoice.exe", "version": "2.0"},
            "Gigbridge put “invoice.exe” (version 2.0) back in the folder of {ref} after its "
            "release",
        ),
    ],
)  # fmt: skip
def test_each_event_reads_as_a_sentence(engagement, action, after, expected):
    assert sentence(engagement, action, after) == expected.format(ref=engagement.reference)
