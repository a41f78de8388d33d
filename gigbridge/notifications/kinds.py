"""The kinds of notice a person can route (Teams, Outlook or both), and which mail templates
belong to each. Pure data: callers, preferences, the profile page and the API share it."""

from __future__ import annotations

from dataclasses import dataclass

CHANNELS = ("outlook", "teams", "both")
CHANNEL_LABELS = {"outlook": "Outlook", "teams": "Teams", "both": "Teams and Outlook"}


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    templates: tuple[str, ...]


KINDS: tuple[Kind, ...] = (
    Kind(
        "approval_request",
        "Approval requests, reminders and escalations",
        ("approval_request", "approval_reminder", "approval_escalated"),
    ),
    Kind(
        "request_decided",
        "Decisions on your requests",
        ("request_approved", "request_rejected", "request_changes"),
    ),
    Kind("proposal_received", "Proposals received", ("proposal_received",)),
    Kind("milestone_submitted", "Milestones submitted", ("milestone_submitted",)),
    Kind("spend_alert", "Spend alerts", ("spend_alert",)),
    Kind("agreement_expiring", "Agreements expiring", ("agreement_expiring",)),
    Kind(
        "deliverable_quarantined",
        "Files quarantined or not scanned",
        ("deliverable_quarantined", "deliverable_unscanned"),
    ),
    Kind(
        "access_changed",
        "Access given to or removed from your freelancers",
        ("access_given", "access_removed"),
    ),
)
BY_KEY = {kind.key: kind for kind in KINDS}
_KIND_OF_TEMPLATE = {template: kind.key for kind in KINDS for template in kind.templates}

# Always mailed: the audit checkpoint is a copy kept outside the server on purpose, and the
# freelancer's agreements to sign go by address (no account, no Teams).
MAIL_ONLY = frozenset({"audit_checkpoint", "agreements_to_sign"})


def kind_of(template: str) -> str | None:
    """The routable kind of a mail template; None for a template that is always mailed."""
    return _KIND_OF_TEMPLATE.get(template)
