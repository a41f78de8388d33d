"""Conversations' reactions to sourcing's and engagements' events and to Teams channel messages,
connected in ``ConversationsConfig.ready``. Signal receivers run in the sender's transaction."""

from django.dispatch import receiver

from gigbridge.engagements import events
from gigbridge.engagements.models import Engagement
from gigbridge.integrations.teams import inbound
from gigbridge.sourcing.actions import job_posted
from gigbridge.sourcing.models import Sourcing

from . import actions

ENDED = {Engagement.State.OFFBOARDING, Engagement.State.CLOSED, Engagement.State.CANCELLED}


@receiver(job_posted, sender=Sourcing, dispatch_uid="conversations.thread_on_posting")
def start_thread_when_posted(sender, engagement: Engagement, **_) -> None:
    actions.queue_thread(engagement)


@receiver(
    events.engagement_transitioned, sender=Engagement, dispatch_uid="conversations.transitions"
)
def follow_the_engagement(sender, engagement: Engagement, from_state: str, to_state: str, **_):
    if to_state in (Engagement.State.CONTRACTED, Engagement.State.ACTIVE):
        # A direct hire (or a contract with no posting) gets its thread when the contract starts.
        actions.queue_thread(engagement)
    elif from_state == Engagement.State.ACTIVE or to_state in ENDED:
        actions.queue_close(engagement)


@inbound.on_channel_message
def mirror_reply(message: inbound.ChannelMessage) -> None:
    actions.receive_channel_message(message)
