from gigbridge.people.actions import roles_of
from gigbridge.people.capabilities import (
    can_create_requests,
    can_read_audit,
    can_review_quarantine,
    can_view_agreements,
    can_view_analytics,
)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "my_roles": sorted(roles_of(user)),
        "can_read_audit": can_read_audit(user),
        # Links to pages the user would be refused are not shown.
        "can_create_requests": can_create_requests(user),
        "can_view_agreements": can_view_agreements(user),
        "can_review_quarantine": can_review_quarantine(user),
        "can_view_analytics": can_view_analytics(user),
    }
