"""Audit events read as sentences: every recorded action has one, changes show as a short
before → after, and the objects an event names are links."""

import re
from pathlib import Path

import pytest
from django.db import transaction

from gigbridge.audit.actions import record
from gigbridge.audit.describe import FALLBACK, SENTENCES, describe, describe_all, shorten
from gigbridge.audit.models import AuditEvent
from gigbridge.engagements import actions
from gigbridge.engagements.models import ApprovalStep, Engagement, WorkRequest
from gigbridge.engagements.tests.test_approvals import (
    approved_engagement,
    new_request,
    pending,
    submitted,
)
from gigbridge.sourcing.models import MarketplaceOffer

pytestmark = pytest.mark.django_db

SOURCE = Path(__file__).resolve().parents[2]  # the gigbridge package

# Actions whose name is built from a value: each f-string the code uses, and every value it can
# take. A new f-string fails the test below until it is listed here (and has sentences).
DYNAMIC = {
    "request.{state}": [s for s in WorkRequest.State.values],
    "approval.{decision}": list(actions.DECISIONS),
    "engagement.{to_state}": Engagement.State.values,
    "marketplace.offer_{state}": MarketplaceOffer.State.values,
}


def _grant_kinds():
    from gigbridge.access.models import Grant

    return Grant.Kind.values


def recorded_actions() -> set[str]:
    """Every action name the code records: literal ``action="..."`` and ``_audit("...")``,
    and the f-strings in DYNAMIC expanded over their values."""
    names = set()
    for path in SOURCE.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text()
        names |= set(re.findall(r'\baction="([a-z_]+\.[a-z_.]+)"', text))
        names |= set(re.findall(r'\b_audit\("([a-z_]+\.[a-z_.]+)"', text))
        for pattern in re.findall(r'\baction=f"([^"]+)"', text):
            if pattern.startswith("access.{") and pattern.endswith(("granted", "revoked")):
                suffix = pattern.rsplit(".", 1)[1]
                names |= {f"access.{kind}.{suffix}" for kind in _grant_kinds()}
                continue
            assert pattern in DYNAMIC, f"new dynamic audit action {pattern!r}: list its values"
            prefix, rest = pattern.split("{", 1)
            names |= {prefix + value + rest.split("}", 1)[1] for value in DYNAMIC[pattern]}
    return names


def test_the_scan_finds_the_actions_the_code_records():
    names = recorded_actions()
    assert {"request.submitted", "approval.approve", "access.drift.found"} <= names
    assert {"access.folder_share.granted", "engagement.cancelled", "people.imported"} <= names
    assert len(names) > 60


def test_every_recorded_action_has_its_own_sentence():
    missing = sorted(recorded_actions() - set(SENTENCES))
    assert not missing, f"add a sentence to gigbridge/audit/describe.py for {missing}"


def _event(action, *, before=None, after=None, user=None, actor=None, obj_type="", obj_id=""):
    with transaction.atomic():
        return record(
            user=user,
            action=action,
            object_type=obj_type,
            object_id=obj_id,
            before=before,
            after=after,
            actor=actor,
        )


def test_every_sentence_renders_without_data_and_reads_without_codes():
    """A sentence never fails on an event that lacks a key: a dash stands in."""
    for action in SENTENCES:
        event = AuditEvent(action=action, actor="system", object_type="", object_id="")
        described = describe_all([event])[0]
        assert described.text and "{" not in described.text
        assert "_" not in described.text.replace(action, ""), (action, described.text)


def test_an_unknown_action_still_reads_as_a_sentence(people):
    event = _event("future.thing", user=people["ada"], obj_type="widget", obj_id="7")
    assert FALLBACK.startswith("{actor}")
    name = people["ada"].get_full_name() or "ada"
    assert describe(event).text == f"{name} recorded “future.thing” on widget 7"


def test_request_story_reads_as_sentences_with_names_and_links(people):
    request = submitted(people["rita"], budget="60000")
    steps = pending(request)
    assert steps
    actions.decide(people["max"], steps[0], "approve", "fine by me")
    rows = {}
    for row in describe_all(actions.request_timeline(request)):
        rows.setdefault(row.action, row)  # the first of each
    link = f'<a href="/requests/{request.pk}/">{request.reference}</a>'
    submitted_row = rows["request.submitted"]
    roles = ApprovalStep.objects.filter(request=request).order_by("stage", "pk")
    asked = ", ".join(s.role.replace("_", " ") for s in roles)
    assert submitted_row.html == f"Rita Requester submitted {link}; the policy asked {asked}"
    assert asked.startswith("manager, procurement")
    assert [(c.field, c.before) for c in submitted_row.changes] == [("state", "draft")]
    approve = rows["approval.approve"]
    max_name = people["max"].get_full_name()
    assert approve.text == f"{max_name} approved {request.reference} as manager"
    assert link in approve.html
    assert approve.note == "fine by me"
    assert rows["approval.requested"].text == (
        f"Gigbridge asked {max_name} to decide {request.reference} as manager (stage 1)"
    )


def test_an_edit_shows_only_changed_fields_before_and_after(people):
    request = new_request(people["rita"])
    actions.update_request(
        people["rita"], request, {"title": "New title", "description": "x" * 400}
    )
    event = AuditEvent.objects.filter(action="request.updated").last()
    described = describe(event)
    assert described.text == f"Rita Requester edited {request.reference}"
    fields = {c.field: c for c in described.changes}
    assert set(fields) == {"title", "description"}
    assert fields["title"].after == "New title"
    assert len(fields["description"].after) <= 80 and fields["description"].after.endswith("…")


def test_a_state_change_is_a_diff_and_the_reason_a_note(people):
    engagement = approved_engagement(
        people,
        sourcing="direct",
        freelancer_email="freya@freelancers.example",
        freelancer_country="PT",
    )
    actions.transition_engagement(people["ada"], engagement, "cancelled", reason="Budget cut")
    event = AuditEvent.objects.get(action="engagement.cancelled")
    described = describe(event)
    admin = people["ada"].get_full_name() or "ada"
    assert described.text == f"{admin} cancelled {engagement.reference}"
    assert f'<a href="/engagements/{engagement.pk}/">{engagement.reference}</a>' in described.html
    assert [(c.field, c.before, c.after) for c in described.changes] == [
        ("state", "sourcing", "cancelled")
    ]
    assert described.note == "Budget cut"
    assert described.raw["after"]["reason"] == "Budget cut"


def test_values_are_escaped_and_links_are_ours(people):
    event = _event(
        "workspace.created",
        user=people["ada"],
        after={"name": "<script>x</script>", "folder": "/a"},
        obj_type="workspace",
        obj_id="1",
    )
    html = str(describe(event).html)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_shorten():
    assert shorten("a" * 200) == "a" * 79 + "…"
    assert shorten(None) == "—"
    assert shorten("in_approval") == "in approval"
    assert shorten(["a", "b"]) == "a, b"


def test_a_refused_offer_does_not_read_like_a_decision(people):
    engagement = approved_engagement(people)
    event = _event(
        "marketplace.offer_refused",
        user=people["rita"],
        obj_type="engagement",
        obj_id=engagement.pk,
        after={"proposal": "p1", "amount": "10", "problems": ["freelancer: has not signed NDA"]},
    )
    described = describe(event)
    assert described.refused
    assert described.text.startswith("Not sent: Gigbridge refused the offer Rita Requester")
    assert "has not signed NDA" in described.text
