"""Who may see what. The web and the API both call these, so they always agree."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from gigbridge.people import actions as people
from gigbridge.people.models import Role

from .models import ApprovalStep, Engagement, WorkRequest

OVERSEERS = (Role.PROGRAM_ADMIN, Role.AUDITOR)


def sees_everything(user) -> bool:
    return people.has_role(user, *OVERSEERS)


def visible_requests(user) -> QuerySet:
    qs = WorkRequest.objects.select_related("requester", "cost_center", "policy_version")
    if sees_everything(user):
        return qs
    acting_for = [user.pk, *people.delegators_of(user)]
    roles = people.RoleAssignment.objects.filter(user_id__in=acting_for).values_list(
        "role", flat=True
    )
    involved = (
        ApprovalStep.objects.filter(
            Q(assignee_id__in=acting_for)
            | Q(escalated_to_id__in=acting_for)
            | Q(decided_by=user)
            | Q(assignee__isnull=True, role__in=list(roles))
        )
        .exclude(state=ApprovalStep.State.WAITING)
        .values("request_id")
    )
    return qs.filter(Q(requester=user) | Q(pk__in=involved))


def can_view_request(user, request: WorkRequest) -> bool:
    return visible_requests(user).filter(pk=request.pk).exists()


def visible_engagements(user) -> QuerySet:
    return Engagement.objects.select_related(
        "request", "request__requester", "freelancer", "request__cost_center"
    ).filter(request__in=visible_requests(user).values("pk"))


def can_manage_engagements(user) -> bool:
    return people.has_role(user, Role.PROGRAM_ADMIN)


def can_read_audit(user) -> bool:
    return sees_everything(user)
