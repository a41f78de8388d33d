"""Pages of the files app: the quarantine (security reviewers, program admins and auditors
read it; program admins release a file from it, with a reason). The engagement page's
"Deliverables" section is ``files/_deliverables.html`` with ``queries.engagement_section``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from gigbridge.domainerrors import InvalidTransition, RuleViolation
from gigbridge.engagements import permissions
from gigbridge.people import capabilities

from . import actions, queries

PER_PAGE = 25
RELEASE_MAX = actions.RELEASE_REASON_MAX


def _what(request) -> str:
    return f"{request.method} {request.path}"  # the operation, as the security log names it


@login_required
def quarantine(request):
    """Files in quarantine or on their way, newest first (security reviewers, program admins,
    auditors); program admins get a release form on each quarantined file."""
    capabilities.require(request.user, capabilities.Capability.REVIEW_QUARANTINE, _what(request))
    return _quarantine_page(request)


def _quarantine_page(request, refused=None, problems=(), typed=""):
    """The page; after a refused release of ``refused``, the reasons at its form and what was
    typed kept (or above the list, when the file is not on the page shown)."""
    page = Paginator(queries.quarantined().select_related("released_by"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = queries.for_page(page.object_list)
    visible = set(
        permissions.visible_engagements(request.user)
        .filter(pk__in={d.engagement_id for d in rows})
        .values_list("pk", flat=True)
    )
    for d in rows:
        d.engagement_visible = d.engagement_id in visible
        if refused is not None and d.pk == refused.pk:
            d.release_errors, d.typed_reason = list(problems), typed
    if refused is not None and refused.pk not in {d.pk for d in rows}:
        messages.error(request, f"“{refused.name}” not released: {'; '.join(problems)}")
    return render(
        request,
        "files/quarantine.html",
        {
            "page": page,
            "rows": rows,
            "can_release": capabilities.can_release_quarantine(request.user),
            "reason_max": actions.RELEASE_REASON_MAX,
        },
        status=400 if refused is not None else 200,
    )


@login_required
@require_POST
def release(request, pk):
    """Release a quarantined file (program admins): a refusal shows the page again with the
    reason at the file's form."""
    deliverable = queries.deliverable_or_404(request.user, pk, _what(request))
    reason = request.POST.get("reason", "")
    try:
        actions.release(request.user, deliverable, reason)
    except RuleViolation as exc:
        problems = [p.message for p in exc.problems]
        return _quarantine_page(request, deliverable, problems, reason[: 2 * RELEASE_MAX])
    except InvalidTransition as exc:
        messages.error(request, f"Not released: {exc}")
        return redirect("web:quarantine")
    messages.success(
        request,
        f"“{deliverable.name}” (version {deliverable.version_id}) is released: it is copied back "
        "into its folder now.",
    )
    return redirect("web:quarantine")
