"""Engagements publishes its transitions as domain events (``engagements.events``); access and
sourcing react in the same transaction, so a reaction that fails rolls the transition back."""

import pytest

from gigbridge.access.actions import RECONCILE_JOB
from gigbridge.audit.models import AuditEvent
from gigbridge.engagements import actions, events
from gigbridge.engagements.models import Engagement
from gigbridge.engagements.tests.test_approvals import approved_engagement
from gigbridge.jobs.models import OutboxJob


def direct_hire(people) -> Engagement:
    return approved_engagement(
        people,
        sourcing="direct",
        freelancer_email="freya@freelancers.example",
        freelancer_country="PT",
    )


@pytest.fixture
def listened():
    """Receivers connected for one test, then disconnected."""
    connected = []

    def connect(signal, receiver):
        signal.connect(receiver, sender=Engagement, weak=False)
        connected.append((signal, receiver))

    yield connect
    for signal, receiver in connected:
        signal.disconnect(receiver, sender=Engagement)


def test_a_transition_is_published_once_and_access_asks_for_a_pass(people, listened):
    engagement = direct_hire(people)
    seen = []
    listened(
        events.engagement_transitioned,
        lambda sender, engagement, from_state, to_state, reason, **_: seen.append(
            (engagement.pk, from_state, to_state, reason)
        ),
    )
    actions.transition_engagement(people["ada"], engagement, "contracted", reason="signed")
    assert seen == [(engagement.pk, "sourcing", "contracted", "signed")]
    reconcile = OutboxJob.objects.filter(kind=RECONCILE_JOB, payload__engagement_id=engagement.pk)
    assert [job.payload["reason"] for job in reconcile] == ["engagement contracted"]


def test_a_reaction_that_fails_rolls_the_transition_back(people, listened):
    engagement = direct_hire(people)

    def fail(**_):
        raise RuntimeError("the reaction failed")

    listened(events.engagement_transitioned, fail)
    with pytest.raises(RuntimeError, match="the reaction failed"):
        actions.transition_engagement(people["ada"], engagement, "contracted")
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.SOURCING
    assert not AuditEvent.objects.filter(
        action="engagement.contracted", object_id=str(engagement.pk)
    ).exists()
    assert not OutboxJob.objects.filter(
        kind=RECONCILE_JOB, payload__engagement_id=engagement.pk
    ).exists()
