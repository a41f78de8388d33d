"""REST operations on deliverables: an engagement's files, the quarantine, a release. The same
permission checks as the pages (files.views): engagements by the engagement page's rule, the
quarantine for security reviewers, program admins and auditors, a release for program admins."""

from __future__ import annotations

from ninja import Router, Status
from ninja.pagination import paginate

from gigbridge.api.pagination import Pagination
from gigbridge.engagements import permissions
from gigbridge.people.capabilities import Capability, require

from . import actions, queries
from .schemas import DeliverableOut, ReleaseIn

engagement_router = Router(tags=["deliverables"])
router = Router(tags=["deliverables"])


def _what(request) -> str:
    return f"{request.method} {request.path}"  # the operation, as the security log names it


@engagement_router.get(
    "/{engagement_id}/deliverables",
    response=list[DeliverableOut],
    summary="The files the engagement's freelancer added, every version, newest first",
)
@paginate(Pagination)
def engagement_deliverables(request, engagement_id: int):
    engagement = permissions.engagement_or_404(request.user, engagement_id, _what(request))
    return queries.for_engagement(engagement).select_related("engagement", "released_by")


@router.get(
    "/quarantined",
    response=list[DeliverableOut],
    summary="Files in quarantine or on their way (security reviewers, program admins, auditors)",
)
@paginate(Pagination)
def quarantined(request):
    require(request.user, Capability.REVIEW_QUARANTINE, _what(request))
    return queries.quarantined().select_related("released_by")


@router.post(
    "/{deliverable_id}/release",
    response={202: DeliverableOut},
    summary="Release a quarantined file back into its folder, with a reason (program admins); "
    "the copy is made soon after",
)
def release(request, deliverable_id: int, payload: ReleaseIn):
    deliverable = queries.deliverable_or_404(request.user, deliverable_id, _what(request))
    released = actions.release(request.user, deliverable, payload.reason)
    return Status(202, released)
