from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render

from gigbridge.people.capabilities import Capability, can_manage_workspaces, require
from gigbridge.program import actions as program
from gigbridge.program.models import TenantTeam, Workspace
from gigbridge.program.reach import KIND_REACH, reach

from . import workspaces
from .review import drift_rows, granted_rows
from .review import render as render_rows


@login_required
def access_review(request):
    """Who can reach what, why and until when. The drift shown is from the last scheduled scan:
    the page itself never calls the tenant."""
    require(request.user, Capability.REVIEW_ACCESS, f"{request.method} {request.path}")
    rows, drift = granted_rows(), drift_rows()
    fmt = request.GET.get("format")
    if fmt in ("csv", "json"):
        content_type = "text/csv" if fmt == "csv" else "application/json"
        response = HttpResponse(render_rows(rows + drift, fmt), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="access-review.{fmt}"'
        return response
    return render(request, "access/review.html", {"rows": rows, "drift": drift})


@login_required
def workspace_list(request):
    admin = can_manage_workspaces(request.user)
    if request.method == "POST":
        require(request.user, Capability.MANAGE_WORKSPACES, f"{request.method} {request.path}")
        if "refresh" in request.POST:
            workspaces.request_catalog_refresh()
            messages.success(request, "The list of Teams will be read from the tenant shortly.")
        else:
            try:
                workspace = workspaces.create_workspace(
                    request.user,
                    request.POST.get("name", ""),
                    team_id=request.POST.get("team_id", ""),
                    folder_path=request.POST.get("folder_path", ""),
                )
                messages.success(
                    request, f"Workspace {workspace.name} is being prepared in Microsoft 365."
                )
            except ValueError as exc:
                messages.error(request, f"Not created: {exc}")
        return redirect("web:workspaces")
    _, policy = program.current()
    rows = list(Workspace.objects.all())
    for workspace in rows:  # what a guest of each will be able to open, under today's policy
        workspace.reach = reach(workspace, policy)
    return render(
        request,
        "access/workspaces.html",
        {
            "workspaces": rows,
            "teams": TenantTeam.objects.all(),
            "admin": admin,
            "kind_reach": KIND_REACH,
        },
    )
