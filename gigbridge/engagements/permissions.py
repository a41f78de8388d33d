"""Who may see which requests and engagements. The web and the API both call these, so they
agree. What they may not see answers 404, the same as an id that does not exist, so ids cannot
be probed. What a person may *do*, by role, is ``people.capabilities`` (refused with a 403 that
names the reason, only for things the person can see).

Every refusal goes to the rate-limited security log (``gigbridge.securitylog``), never to the
business audit trail.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from gigbridge import securitylog
from gigbridge.people import actions as people
from gigbridge.people.capabilities import OVERSEERS, deny
from gigbridge.people.models import Role

from .models import ApprovalStep, Engagement, WorkRequest

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
