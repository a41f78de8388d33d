"""``GET /upwork/``: the read-only viewer of the sandbox marketplace (never a secret)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import viewertools
from . import control
from .models import (
    ClientUser,
    Contract,
    Freelancer,
    JobPosting,
    Offer,
    Organization,
    Payment,
    Room,
)

SHOWN = 100  # newest rows of each kind; bulk benchmarks make thousands


@require_GET
@viewertools.viewer_page
def viewer(request: HttpRequest) -> HttpResponse:
    base = f"{settings.SANDBOX_URL}/upwork"
    contracts = list(
        Contract.objects.select_related("freelancer", "organization")
        .prefetch_related("milestones", "hours")
        .order_by("-pk")[:SHOWN]
    )
    context = {
        "base": base,
        "dials": control.current(),
        "organizations": Organization.objects.order_by("id"),
        "users": ClientUser.objects.prefetch_related("organizations"),
        "freelancers": Freelancer.objects.all(),
        "jobs": JobPosting.objects.select_related("organization")
        .prefetch_related("proposals__freelancer")
        .order_by("-pk")[:SHOWN],
        "offers": Offer.objects.select_related("freelancer", "organization").order_by("-pk")[
            :SHOWN
        ],
        "contracts": contracts,
        "payments": Payment.objects.select_related("organization").order_by("-created", "-pk")[
            :SHOWN
        ],
        "rooms": Room.objects.prefetch_related(
            "stories__freelancer", "stories__client_user"
        ).order_by("-modified")[:20],
        **viewertools.context(request),
    }
    return render(request, "sandbox_upwork/viewer.html", context)
