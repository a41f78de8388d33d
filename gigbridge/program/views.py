from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from gigbridge.engagements.api import cost_center_rows
from gigbridge.people import capabilities
from gigbridge.people.models import Person

from . import actions, hub, hub_actions, hub_markdown
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


# -- the program hub ---------------------------------------------------------------------------
# ``/hub/`` (introduction and pages), ``/hub/<slug>/``; for program admins ``/hub/edit/`` (the
# introduction in Markdown, with a preview) and ``POST /hub/publish/`` (the hub as a SharePoint
# site page, through an outbox job). Every signed-in person reads the hub; editing and
# publishing need Capability.EDIT_HUB.

EDIT = capabilities.Capability.EDIT_HUB


def _names() -> dict[str, str]:
    return {
        email.lower(): name for email, name in Person.objects.values_list("email", "display_name")
    }


def _policy():
    try:
        return actions.current()[1]
    except actions.NoPolicyError:
        return None


def _intro_html(markdown: str) -> str:
    return mark_safe(hub_markdown.render(markdown))  # noqa: S308 - sanitised by nh3


def _common(request) -> dict:
    return {
        "can_edit": capabilities.can_edit_hub(request.user),
        "site_configured": bool(settings.HUB["site_id"]),
    }


@login_required
def hub_index(request):
    policy = _policy()
    intro = hub_actions.intro()
    return render(
        request,
        "program/hub_index.html",
        {
            **_common(request),
            "policy": policy,
            "pages": hub.pages(policy, _names()) if policy else [],
            "intro": intro,
            "intro_html": _intro_html(intro.markdown),
            "publication": hub_actions.publication(),
        },
    )


@login_required
def hub_page(request, slug: str):
    policy = _policy()
    shown = hub.page(policy, slug, _names()) if policy else None
    if shown is None:
        raise Http404("no such hub page")
    return render(
        request,
        "program/hub_page.html",
        {**_common(request), "policy": policy, "page": shown, "pages": hub.pages(policy)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def hub_edit(request):
    capabilities.require(request.user, EDIT, "edit the hub introduction")
    intro = hub_actions.intro()
    text = intro.markdown
    problem = ""
    if request.method == "POST":
        text = request.POST.get("markdown", "")[: hub_markdown.MAX_INTRO * 2]
        if "save" in request.POST:
            try:
                hub_actions.save_intro(request.user, text, allowed=True)
            except hub_actions.HubError as exc:
                problem = str(exc)
            else:
                messages.success(request, "The hub's introduction is saved.")
                return redirect("web:hub")
    return render(
        request,
        "program/hub_edit.html",
        {
            "intro": intro,
            "text": text,
            "preview": _intro_html(text) if request.method == "POST" else None,
            "problem": problem,
            "max_intro": hub_markdown.MAX_INTRO,
        },
        status=400 if problem else 200,
    )


def sharepoint_sections(policy, names: dict[str, str], intro_markdown: str) -> list[dict]:
    """The hub as the HTML of SharePoint text web parts: the introduction, then each page."""
    sections = []
    if intro_markdown.strip():
        sections.append({"key": "introduction", "html": hub_markdown.render(intro_markdown)})
    for each in hub.pages(policy, names):
        html = render_to_string("program/hub_sharepoint.html", {"page": each})
        sections.append({"key": each.slug, "html": hub_markdown.clean(html)})
    return sections


@login_required
@require_POST
def hub_publish(request):
    capabilities.require(request.user, EDIT, "publish the hub to SharePoint")
    policy = _policy()
    if policy is None:
        messages.error(request, "There is no program policy yet: nothing to publish.")
        return redirect("web:hub")
    sections = sharepoint_sections(policy, _names(), hub_actions.intro().markdown)
    try:
        row = hub_actions.request_publish(
            request.user, f"{policy.program.name}: the freelance program", sections, allowed=True
        )
    except hub_actions.HubError as exc:
        messages.error(request, str(exc))
        return redirect("web:hub")
    messages.success(
        request,
        f"Publishing the hub to SharePoint (revision {row.revision}); this page shows when it "
        "is done.",
    )
    return redirect("web:hub")
