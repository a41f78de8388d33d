"""The read-only viewer: what is in the sandbox tenant (never a secret)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .models import Tenant


@require_GET
def viewer(request: HttpRequest) -> HttpResponse:
    tenants = Tenant.objects.prefetch_related("apps", "users").order_by("created")
    context = {"tenants": tenants, "base": settings.SANDBOX_URL}
    return render(request, "sandbox/viewer.html", context)
