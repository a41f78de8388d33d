from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import home as homes
from . import search as searching


@login_required
@require_GET
def home(request):
    """What this person needs now: a panel per role they hold, what waits on them first."""
    panels = homes.panels(request.user)
    return render(
        request,
        "web/home.html",
        {"panels": panels, "hub_path": homes.HUB_PATH, "few": homes.FEW},
    )


@login_required
@require_GET
def search(request):
    """Requests, engagements and people matching ?q=, only what the person may open."""
    raw = request.GET.get("q", "")
    try:
        groups = searching.search(request.user, raw)
    except searching.BadQuery as exc:
        # A clear page with the box to try again, never a server error.
        context = {"q": raw[: searching.Q_MAX], "error": str(exc), "q_max": searching.Q_MAX}
        return render(request, "web/search.html", context, status=400)
    return render(
        request,
        "web/search.html",
        {
            "q": raw.strip(),
            "groups": groups,
            "found": sum(len(g.results) for g in groups),
            "per_kind": searching.PER_KIND,
            "q_max": searching.Q_MAX,
        },
    )
