"""The viewer: what is in the sandbox tenant (never a secret), and the sandbox's tools.

Read-only for anyone on this machine; signed in to the sandbox tools (``viewertools``) it also
shows mail bodies and offers the clock's controls.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import viewertools
from .graph import viewer as graph_viewer
from .m365files import viewer as files_viewer
from .models import Tenant


@require_GET
@viewertools.viewer_page
def viewer(request: HttpRequest) -> HttpResponse:
    tenants = list(
        Tenant.objects.prefetch_related("apps", "users__graph_guest").order_by("created")
    )
    for tenant in tenants:
        tenant.graph = graph_viewer.summary(tenant)
        tenant.files = files_viewer.summary(tenant)
    context = {
        "tenants": tenants,
        "base": settings.SANDBOX_URL,
        "dials": graph_viewer.dials(),
        **viewertools.context(request),
    }
    return render(request, "sandbox/viewer.html", context)
