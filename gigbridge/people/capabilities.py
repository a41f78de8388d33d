"""What a person may do, by role: one helper per capability (``can_…``), and ``require`` to
refuse with a 403 that names the reason. People's (roles are), so any app asks here without
importing another; what a person may *see* of requests and engagements is
``engagements.permissions``.

Every refusal goes to the rate-limited security log (``gigbridge.securitylog``), never to the
business audit trail.
"""

from __future__ import annotations

from enum import StrEnum

from gigbridge import securitylog
from gigbridge.domainerrors import NotAllowed

from . import actions as people
from .models import Role

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
    REVIEW_QUARANTINE = "see the files in quarantine"
    RELEASE_QUARANTINE = "release a file from quarantine"
    VIEW_ANALYTICS = "see the program analytics"
    EDIT_HUB = "edit or publish the program hub"
    SET_UP_PROGRAM = "define the program with the set-up wizard"


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
    Capability.REVIEW_QUARANTINE: (Role.SECURITY_REVIEWER, *OVERSEERS),
    # Only a program admin: a release puts a file scanned as dangerous back in people's reach.
    Capability.RELEASE_QUARANTINE: (Role.PROGRAM_ADMIN,),
    # Spend, budgets and adoption: the program's owners, those who control spend, and auditors.
    Capability.VIEW_ANALYTICS: (Role.PROGRAM_ADMIN, Role.FINANCE, Role.PROCUREMENT, Role.AUDITOR),
    Capability.EDIT_HUB: (Role.PROGRAM_ADMIN,),
    Capability.SET_UP_PROGRAM: (Role.PROGRAM_ADMIN,),
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


def can_review_quarantine(user) -> bool:
    return can(user, Capability.REVIEW_QUARANTINE)


def can_release_quarantine(user) -> bool:
    return can(user, Capability.RELEASE_QUARANTINE)


def can_view_analytics(user) -> bool:
    return can(user, Capability.VIEW_ANALYTICS)


def can_edit_hub(user) -> bool:
    return can(user, Capability.EDIT_HUB)


def deny(user, action: str, obj=None, reason: str = "not allowed") -> NotAllowed:
    """Log a refusal (403) to the security log and return the error to raise."""
    securitylog.refused(user, action, obj, status=403, reason=reason)
    return NotAllowed(reason)


def require(user, capability: Capability, action: str, obj=None) -> None:
    """Raise NotAllowed (a 403 in the web and the API) unless ``user`` holds ``capability``."""
    if not can(user, capability):
        roles = " or ".join(r.replace("_", " ") for r in GRANTS[capability])
        raise deny(user, action, obj, f"only a {roles} can {capability.value}")
