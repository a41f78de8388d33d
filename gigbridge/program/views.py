from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from gigbridge.engagements.api import cost_center_rows

from . import actions
from .models import PolicyVersion


@login_required
def policy_view(request):
    version, policy = actions.current()
    return render(
        request,
        "program/policy.html",
        {
            "version": version,
            "policy": policy,
            "cost_centers": cost_center_rows(),
            "history": PolicyVersion.objects.only(
                "number", "sha256", "activated_at", "activated_by", "filename"
            )[:20],
        },
    )
