"""Releasing a quarantined file (files.actions.release): only a program admin, only a
quarantined file, always with a reason; one transaction with its audit event and the
``files.release`` job. Deliverable rows are written here as the delta pass records them."""

from __future__ import annotations

import datetime as dt

import pytest

from gigbridge.audit.describe import describe
from gigbridge.audit.models import AuditEvent
from gigbridge.domainerrors import InvalidTransition, NotAllowed, RuleViolation
from gigbridge.files import actions
from gigbridge.files.models import Deliverable
from gigbridge.files.tests.records import quarantined
from gigbridge.jobs.models import OutboxJob
from gigbridge.sourcing.tests.test_marketplace import approved_engagement

pytestmark = pytest.mark.django_db

Verdict, State = Deliverable.Verdict, Deliverable.State


@pytest.fixture
def engagement(people):
    return approved_engagement(people)


def release_jobs():
    return OutboxJob.objects.filter(kind=actions.RELEASE_JOB)


def test_a_program_admin_releases_a_quarantined_file_with_one_event_and_one_job(
    people, engagement, frozen_now
):
    file = quarantined(engagement)
    released = actions.release(people["ada"], file, "  False positive: our own build tool  ")
    file.refresh_from_db()
    assert file.released_at == frozen_now.now()
    assert file.state == State.RELEASING == released.state
    assert file.released_by == people["ada"]
    assert file.release_reason == "False positive: our own build tool"
    job = release_jobs().get()
    assert job.payload == {"deliverable_id": file.pk}
    assert job.idempotency_key == f"files.release:{file.pk}"
    event = AuditEvent.objects.get(action="deliverable.released")
    assert (event.object_type, event.object_id) == ("engagement", str(engagement.pk))
    assert event.after == {
        "deliverable": file.pk,
        "file": "invoice.exe",
        "version": "1.0",
        "reason": "False positive: our own build tool",
    }
    described = describe(event)
    assert described.text == (
        f"Ada Admin released “invoice.exe” (version 1.0) of {engagement.reference} from "
        "quarantine; it goes back to its folder"
    )
    assert described.note == "False positive: our own build tool"


@pytest.mark.parametrize("who", ["rita", "audrey", "max", "paula"])
def test_only_a_program_admin_may_release(people, engagement, who):
    file = quarantined(engagement)
    with pytest.raises(NotAllowed, match="only a program admin can release a file"):
        actions.release(people[who], file, "looks fine")
    file.refresh_from_db()
    assert file.state == State.QUARANTINED and not release_jobs().exists()
    assert not AuditEvent.objects.filter(action="deliverable.released").exists()


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "say why this file may go back to the project folder"),
        ("   \n ", "say why this file may go back to the project folder"),
        ("x" * 1001, "is 1001 characters long: at most 1000"),
        ("fine\x00", "must not contain the NUL character"),
        (None, "must be text"),
    ],
)
def test_a_release_needs_a_reason_within_bounds(people, engagement, reason, message):
    file = quarantined(engagement)
    with pytest.raises(RuleViolation) as refused:
        actions.release(people["ada"], file, reason)
    [problem] = refused.value.problems
    assert problem.field == "reason" and message in problem.message
    file.refresh_from_db()
    assert file.state == State.QUARANTINED and not release_jobs().exists()


def test_a_reason_of_exactly_1000_characters_is_enough(people, engagement):
    file = quarantined(engagement)
    actions.release(people["ada"], file, "y" * 1000)
    file.refresh_from_db()
    assert len(file.release_reason) == 1000


@pytest.mark.parametrize(
    "state", [State.AVAILABLE, State.QUARANTINING, State.RELEASING, State.RELEASED]
)
def test_only_a_quarantined_file_can_be_released(people, engagement, state):
    file = quarantined(engagement)
    Deliverable.objects.filter(pk=file.pk).update(state=state)
    with pytest.raises(InvalidTransition, match="only a quarantined file can be released"):
        actions.release(people["ada"], file, "fine")
    assert not release_jobs().exists()


def test_a_second_release_is_refused_and_queues_nothing_more(people, engagement, frozen_now):
    file = quarantined(engagement)
    actions.release(people["ada"], file, "fine")
    frozen_now(minutes=1)
    with pytest.raises(InvalidTransition, match="being released"):
        actions.release(people["ada"], file, "again")
    assert release_jobs().count() == 1
    assert AuditEvent.objects.filter(action="deliverable.released").count() == 1
    file.refresh_from_db()
    assert file.release_reason == "fine"
    assert file.released_at == frozen_now.now() - dt.timedelta(minutes=1)
