"""Sourcing's reactions to engagements' domain events (``gigbridge.engagements.events``),
connected in ``SourcingConfig.ready``. Each runs in the sender's transaction."""

from django.dispatch import receiver

from gigbridge.domainerrors import InvalidTransition
from gigbridge.engagements import events
from gigbridge.engagements.models import Engagement

from .actions import queue_posting
from .models import Sourcing


@receiver(events.engagement_created, sender=Engagement, dispatch_uid="sourcing.post_the_job")
def post_the_job(sender, engagement: Engagement, **_) -> None:
    queue_posting(engagement)  # a marketplace request is posted once Upwork is configured


@receiver(
    events.engagement_transition_requested,
    sender=Engagement,
    dispatch_uid="sourcing.refuse_ending_a_live_contract_by_hand",
)
def refuse_ending_a_live_contract_by_hand(
    sender, engagement: Engagement, to_state: str, **_
) -> None:
    """Moving an engagement with a running Upwork contract to offboarding (or cancelling it) by
    hand would cut access while the contract, and its payments, go on: ending goes through
    ``ending.end_contract``, which tells Upwork."""
    if to_state not in (Engagement.State.OFFBOARDING, Engagement.State.CANCELLED):
        return
    sourcing = Sourcing.objects.filter(engagement=engagement).first()
    if sourcing is None or not sourcing.contract_id or sourcing.contract_status == "ENDED":
        return
    raise InvalidTransition(
        f"{engagement.reference} has a running Upwork contract ({sourcing.contract_id}): end it "
        "with “End the contract” on its page (or POST /api/v1/engagements/"
        f"{engagement.pk}/end), which ends it on Upwork too"
    )
