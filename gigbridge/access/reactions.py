"""Access's reactions to engagements' domain events (``gigbridge.engagements.events``),
connected in ``AccessConfig.ready``. Each runs in the sender's transaction."""

from django.dispatch import receiver

from gigbridge.engagements import events
from gigbridge.engagements.models import Engagement

from .actions import request_reconcile


@receiver(events.engagement_transitioned, sender=Engagement, dispatch_uid="access.reconcile")
def reconcile_after_transition(sender, engagement: Engagement, to_state: str, **_) -> None:
    # Access follows the contract: every transition is a reason to look at the tenant again.
    request_reconcile(engagement, f"engagement {to_state}")
