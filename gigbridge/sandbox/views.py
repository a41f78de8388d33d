"""The read-only viewer: what is in the sandbox tenant (never a secret)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .graph import viewer as graph_viewer
from .models import Tenant


@require_GET
def viewer(request: HttpRequest) -> HttpResponse:
    tenants = list(
        Tenant.objects.prefetch_related("apps", "users__graph_guest").order_by("created")
    )
    for tenant in tenants:
        tenant.graph = graph_viewer.summary(tenant)
    context = {"tenants": tenants, "base": settings.SANDBOX_URL, "dials": graph_viewer.dials()}
    return render(request, "sandbox/viewer.html", context)
