"""The files app's rule on milestone approvals (registered with sourcing.milestones), and the
facts its notices compute when they are rendered (registered with notifications.render).

With the policy's ``files.milestone_needs_clean_deliverable``, a milestone may be approved only
once at least one deliverable arrived since the previous milestone was submitted (for the first
milestone: since the contract was made) that was scanned clean and is in the project folder. A
file still waiting for its scan, too large to scan, or quarantined does not count.
"""

from __future__ import annotations

from gigbridge.domainerrors import Problem
from gigbridge.notifications import render as notices
from gigbridge.program import actions as program
from gigbridge.sourcing import milestones

from . import queries
from .models import Deliverable

RULE = "files.milestone_needs_clean_deliverable"


def clean_deliverable(milestone) -> list[Problem]:
    """The rule: [] when it passes (or the policy does not ask for it), else one Problem."""
    _, policy = program.current()
    if not policy.files.milestone_needs_clean_deliverable:
        return []
    found = queries.since_last_milestone(milestone).filter(
        verdict=Deliverable.Verdict.CLEAN, state=Deliverable.State.AVAILABLE
    )
    if found.exists():
        return []
    return [
        Problem(
            "",
            "no deliverable scanned clean has arrived in the project folder "
            f"{queries.milestone_window(milestone).words()}: the program asks for at least "
            "one before a milestone is approved",
            RULE,
        )
    ]


# --- the submitted milestone's notice (mail and Teams card) ------------------------------------


def milestone_notice_facts(context: dict) -> dict:
    """The deliverables since the previous milestone, computed when the notice is rendered:
    ``deliverables`` (one line each, newest first, at most queries.MILESTONE_ROWS_MAX),
    ``deliverables_total``, ``deliverables_clean``, and ``deliverables_rule`` (why the approval
    would be refused now, "" if it would not)."""
    from gigbridge.sourcing.models import Milestone

    milestone_id = context.get("milestone_id")
    milestone = (
        Milestone.objects.select_related("engagement").filter(pk=milestone_id).first()
        if isinstance(milestone_id, int)
        else None
    )
    if milestone is None:
        return {}
    summary = queries.milestone_summary(milestone)
    refused = clean_deliverable(milestone)
    return {
        "deliverables": summary["lines"],
        "deliverables_total": summary["total"],
        "deliverables_clean": summary["clean"],
        "deliverables_rule": refused[0].message if refused else "",
    }


def deliverable_notice_facts(context: dict) -> dict:
    """A quarantined or unscanned file's notice: its size as people read it."""
    size = context.get("size")
    return {"size_text": queries.size_text(size) if isinstance(size, int) else "size unknown"}


milestones.add_approval_check(clean_deliverable)
notices.add_provider("milestone_submitted", milestone_notice_facts)
for template in ("deliverable_quarantined", "deliverable_unscanned"):
    notices.add_provider(template, deliverable_notice_facts)
