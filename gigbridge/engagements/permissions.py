"""Who may see what and who may do what. The web and the API both call these, so they agree.

Two kinds of question:

- *Visibility*: which requests and engagements a person may see at all. What they may not see
  answers 404, the same as an id that does not exist, so ids cannot be probed.
- *Capabilities*: what a person may do, by role. One helper per capability (``can_…``), and
  ``require`` to refuse with a 403 that names the reason (only for things the person can see).

Every refusal goes to the rate-limited security log (``gigbridge.securitylog``), never to the
business audit trail.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Q, QuerySet
from django.http import Http404

from gigbridge import securitylog
from gigbridge.people import actions as people
from gigbridge.people.models import Role

from .errors import NotAllowed
from .models import ApprovalStep, Engagement, WorkRequest

OVERSEERS = (Role.PROGRAM_ADMIN, Role.AUDITOR)


class Capability(StrEnum):
    CREATE_REQUESTS = "create requests"
    MANAGE_ENGAGEMENTS = "change an engagement's state by hand"
    MANAGE_WORKSPACES = "create workspaces or refresh the list of Teams"
    READ_AUDIT = "read the audit trail"
    REVIEW_ACCESS = "see the access review"
    RECORD_AGREEMENTS = "record or revoke a worker's agreements"
    VIEW_AGREEMENTS = "see workers' agreements"
    SEND_FOR_SIGNATURE = "send a worker agreements to sign"


# The roles that hold each capability. A capability not listed here is held by nobody.
GRANTS: dict[Capability, tuple[str, ...]] = {
    Capability.CREATE_REQUESTS: (Role.REQUESTER,),
    Capability.MANAGE_ENGAGEMENTS: (Role.PROGRAM_ADMIN,),
    Capability.MANAGE_WORKSPACES: (Role.PROGRAM_ADMIN,),
    Capability.READ_AUDIT: OVERSEERS,
    Capability.REVIEW_ACCESS: OVERSEERS,
    Capability.RECORD_AGREEMENTS: (Role.LEGAL, Role.HR, Role.PROGRAM_ADMIN),
    Capability.VIEW_AGREEMENTS: (Role.LEGAL, Role.HR, *OVERSEERS),
    # Hiring managers too: a freelancer they pick needs the agreements first.
    Capability.SEND_FOR_SIGNATURE: (Role.LEGAL, Role.HR, Role.PROGRAM_ADMIN, Role.REQUESTER),
}


def can(user, capability: Capability) -> bool:
    return people.has_role(user, *GRANTS[capability])


def can_create_requests(user) -> bool:
    return can(user, Capability.CREATE_REQUESTS)


def can_manage_engagements(user) -> bool:
    return can(user, Capability.MANAGE_ENGAGEMENTS)


def can_manage_workspaces(user) -> bool:
    return can(user, Capability.MANAGE_WORKSPACES)


def can_read_audit(user) -> bool:
    return can(user, Capability.READ_AUDIT)


def can_review_access(user) -> bool:
    return can(user, Capability.REVIEW_ACCESS)


def can_record_agreements(user) -> bool:
    return can(user, Capability.RECORD_AGREEMENTS)


def can_view_agreements(user) -> bool:
    return can(user, Capability.VIEW_AGREEMENTS)


def can_send_for_signature(user) -> bool:
    return can(user, Capability.SEND_FOR_SIGNATURE)


def deny(user, action: str, obj=None, reason: str = "not allowed") -> NotAllowed:
    """Log a refusal (403) to the security log and return the error to raise."""
    securitylog.refused(user, action, obj, status=403, reason=reason)
    return NotAllowed(reason)


def require(user, capability: Capability, action: str, obj=None) -> None:
    """Raise NotAllowed (a 403 in the web and the API) unless ``user`` holds ``capability``."""
    if not can(user, capability):
        roles = " or ".join(r.replace("_", " ") for r in GRANTS[capability])
        raise deny(user, action, obj, f"only a {roles} can {capability.value}")


# --- visibility ----------------------------------------------------------------------------


def may_run_engagement(user, engagement: Engagement) -> bool:
    """The hiring manager (the requester) or a program admin: who sources the freelancer,
    starts a direct hire's contract, decides milestones and ends the contract."""
    return user is not None and (
        engagement.request.requester_id == user.pk or people.has_role(user, Role.PROGRAM_ADMIN)
    )


def sees_everything(user) -> bool:
    return people.has_role(user, *OVERSEERS)


def _involved_steps(user) -> QuerySet:
    """Steps ``user`` decided, or was asked to decide (the step was activated) in their own right,
    as someone's delegate, or by escalation. Steps never activated (waiting, or cancelled before
    their stage came) do not count: those approvers were never asked."""
    acting_for = [user.pk, *people.delegators_of(user)]
    roles = list(
        people.RoleAssignment.objects.filter(user_id__in=acting_for).values_list("role", flat=True)
    )
    asked = Q(activated_at__isnull=False) & (
        Q(assignee_id__in=acting_for)
        | Q(escalated_to_id__in=acting_for)
        | Q(assignee__isnull=True, role__in=roles)
    )
    return ApprovalStep.objects.filter(asked | Q(decided_by=user))


def visible_requests(user) -> QuerySet:
    """Requests ``user`` made, decided or was asked to decide; all of them for overseers."""
    qs = WorkRequest.objects.select_related("requester", "cost_center", "policy_version")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if sees_everything(user):
        return qs
    involved = _involved_steps(user).values("request_id")
    return qs.filter(Q(requester=user) | Q(pk__in=involved))


def can_view_request(user, request: WorkRequest) -> bool:
    return visible_requests(user).filter(pk=request.pk).exists()


def visible_engagements(user) -> QuerySet:
    return Engagement.objects.select_related(
        "request", "request__requester", "freelancer", "request__cost_center"
    ).filter(request__in=visible_requests(user).values("pk"))


def _get_or_404(visible: QuerySet, everything: QuerySet, pk, user, action: str):
    try:
        return visible.get(pk=pk)
    except visible.model.DoesNotExist:
        hidden = everything.filter(pk=pk).exists()
        securitylog.refused(
            user,
            action,
            f"{visible.model._meta.model_name}:{pk}",
            status=404,
            reason="not visible to the user" if hidden else "no such object",
        )
        raise Http404("no such object, or not visible to you") from None


def request_or_404(user, pk, action: str = "request.view") -> WorkRequest:
    return _get_or_404(visible_requests(user), WorkRequest.objects, pk, user, action)


def engagement_or_404(user, pk, action: str = "engagement.view") -> Engagement:
    return _get_or_404(visible_engagements(user), Engagement.objects, pk, user, action)


def step_or_404(user, pk, action: str = "approval.view") -> ApprovalStep:
    """An approval step of a request ``user`` may see."""
    visible = ApprovalStep.objects.select_related(
        "request", "request__requester", "request__cost_center"
    ).filter(request__in=visible_requests(user).values("pk"))
    return _get_or_404(visible, ApprovalStep.objects, pk, user, action)


def own_request(user, pk, action: str) -> WorkRequest:
    """A request only its requester may change: 404 if not visible, 403 for anyone else."""
    request = request_or_404(user, pk, action)
    if request.requester_id != user.pk:
        raise deny(user, action, request, "only the requester can change a request")
    return request
