from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseForbidden
from django.shortcuts import render

from gigbridge.engagements.permissions import can_read_audit

from .actions import verify
from .models import AuditEvent


@login_required
def audit_log(request):
    if not can_read_audit(request.user):
        return HttpResponseForbidden("Only auditors and program admins can read the audit trail.")
    qs = AuditEvent.objects.order_by("-seq")
    action = request.GET.get("action")
    if action:
        qs = qs.filter(action__startswith=action)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    result = verify() if request.GET.get("verify") else None
    return render(
        request, "audit/log.html", {"page": page, "action": action or "", "result": result}
    )
