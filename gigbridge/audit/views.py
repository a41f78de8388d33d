from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from gigbridge.people.capabilities import Capability, require

from .actions import verify
from .describe import describe_all
from .models import AuditEvent


@login_required
def audit_log(request):
    require(request.user, Capability.READ_AUDIT, f"{request.method} {request.path}")
    qs = AuditEvent.objects.order_by("-seq")
    action = request.GET.get("action")
    if action:
        qs = qs.filter(action__startswith=action)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    result = verify() if request.GET.get("verify") else None
    return render(
        request,
        "audit/log.html",
        {
            "page": page,
            "events": describe_all(page.object_list),
            "action": action or "",
            "result": result,
        },
    )
