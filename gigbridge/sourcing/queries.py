"""Read models of the marketplace side, shared by the engagement page and the API."""

from decimal import Decimal

from django.db.models import Prefetch

from gigbridge.engagements.models import Engagement

from . import actions as marketplace
from . import milestones
from .models import MilestoneDecision


def marketplace_view(engagement: Engagement) -> dict:
    """The engagement's marketplace side and spend (the web page shows the same)."""
    sourcing = getattr(engagement, "sourcing", None)
    entries = list(engagement.time_entries.all())
    budget = milestones.budget_left(engagement)
    return {
        "engagement_id": engagement.pk,
        "organization_id": sourcing.organization_id if sourcing else "",
        "job_posting_id": sourcing.job_posting_id if sourcing else "",
        "posting_state": sourcing.posting_state if sourcing else "none",
        "contract_id": sourcing.contract_id if sourcing else "",
        "contract_status": sourcing.contract_status if sourcing else "",
        "last_error": sourcing.last_error if sourcing else "",
        "budget": engagement.request.budget,
        "currency": engagement.request.currency,
        "spent": marketplace.spent(engagement),
        "marketplace_currency": marketplace.MARKETPLACE_CURRENCY,
        "offer_limit": marketplace.offer_limit(engagement.request),
        "hours": sum((e.hours for e in entries), Decimal("0")),
        "budget_left": budget,
        "approval_limit": budget.limit,
        "proposals": list(engagement.proposals.all()),
        "offers": list(engagement.offers.all()),
        "milestones": list(
            engagement.milestones.prefetch_related(
                Prefetch("decisions", queryset=MilestoneDecision.objects.select_related("by"))
            )
        ),
        "time_entries": entries,
        "weeks": milestones.weeks(engagement, entries),
        "payments": list(engagement.payments.all()),
    }
