"""Web pages of the marketplace side, all on the engagement page (engagements/views.py draws
it): shortlist or pick a proposal, decide a milestone, approve a week of hours, end the
contract. Their addresses are the engagement's (``web/urls.py``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from gigbridge.domainerrors import InvalidTransition, NotAllowed, Problem, RuleViolation
from gigbridge.engagements import permissions
from gigbridge.engagements.views import engagement_page, what_was_asked
from gigbridge.people import capabilities

from . import actions as marketplace
from . import ending, milestones
from .models import Milestone, Proposal


@login_required
@require_POST
def proposal_action(request, pk, proposal_pk, what):
    """Shortlist or pick a proposal from the engagement page."""
    if what not in ("shortlist", "pick"):
        raise Http404("no such proposal action")
    engagement = permissions.engagement_or_404(request.user, pk, what_was_asked(request))
    proposal = get_object_or_404(Proposal, pk=proposal_pk, engagement=engagement)
    try:
        if what == "shortlist":
            marketplace.shortlist(request.user, proposal)
            messages.success(request, f"{proposal.freelancer_name} is shortlisted.")
        else:
            amount = _decimal(request.POST, "amount")
            rate = _decimal(request.POST, "hourly_rate")
            hours = _whole(request.POST, "weekly_hours")
            marketplace.pick(
                request.user, proposal, amount=amount, hourly_rate=rate, weekly_hours=hours
            )
            messages.success(request, f"The offer to {proposal.freelancer_name} is on its way.")
    except NotAllowed as exc:
        return HttpResponseForbidden(str(exc))
    except RuleViolation as exc:
        if what == "pick":  # the reasons at the fields of the form that was sent
            return engagement_page(request, engagement, proposal, exc.problems)
        messages.error(request, str(exc))
    except InvalidTransition as exc:
        messages.error(request, str(exc))
    return redirect("web:engagement-detail", pk=pk)


def _decimal(data, field: str) -> Decimal | None:
    """A typed amount (blank is None); not a number is refused at the field."""
    text = (data.get(field) or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise RuleViolation([Problem(field, f"{text!r} is not a number")])
    return value


def _whole(data, field: str) -> int | None:
    """A typed whole number (blank is None); "-40" or "ten" is refused at the field, not read
    as blank (the bounds are the action's)."""
    text = (data.get(field) or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise RuleViolation([Problem(field, f"{text!r} is not a whole number")]) from None


@login_required
@require_POST
def engagement_end(request, pk):
    """End the contract from the engagement page (engagements/_end_contract.html)."""

    engagement = permissions.engagement_or_404(request.user, pk, what_was_asked(request))
    if not permissions.may_run_engagement(request.user, engagement):
        raise capabilities.deny(
            request.user,
            what_was_asked(request),
            engagement,
            "only the hiring manager or a program admin can end the contract",
        )
    if not request.POST.get("confirm"):
        messages.error(
            request,
            f"Ending the contract of {engagement.reference} cannot be undone: tick “I am sure” "
            "to confirm.",
        )
        return redirect("web:engagement-detail", pk=pk)
    try:
        ended = ending.end_contract(
            request.user,
            engagement,
            request.POST.get("reason", ""),
            request.POST.get("feedback", ""),
        )
    except (RuleViolation, InvalidTransition) as exc:
        messages.error(request, f"Not ended: {exc}")
    else:
        told = (
            " Upwork is being told." if ended.marketplace_state == ended.Marketplace.QUEUED else ""
        )
        messages.success(
            request,
            f"The contract of {engagement.reference} has ended; offboarding started.{told}",
        )
    return redirect("web:engagement-detail", pk=pk)


def _back_to(pk, anchor: str):
    return redirect(reverse("web:engagement-detail", args=[pk]) + f"#{anchor}")


def _milestone_of(request, pk, ms_pk):

    engagement = permissions.engagement_or_404(request.user, pk, what_was_asked(request))
    return get_object_or_404(Milestone, pk=ms_pk, engagement=engagement)


def _refused(request, what: str, exc: Exception) -> None:
    if isinstance(exc, RuleViolation):
        text = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in exc.problems)
    else:
        text = str(exc)
    messages.error(request, f"{what}: {text}")


@login_required
@require_POST
def milestone_approve(request, pk, ms_pk):
    milestone = _milestone_of(request, pk, ms_pk)
    try:
        amount = _decimal(request.POST, "amount")
        decision = milestones.approve(
            request.user, milestone, amount, request.POST.get("comment", "")
        )
    except NotAllowed as exc:
        return HttpResponseForbidden(str(exc))
    except (RuleViolation, InvalidTransition) as exc:
        _refused(request, "Not approved", exc)
    else:
        messages.success(
            request,
            f"Approved: {decision.amount:,.2f} {decision.currency} for "
            f"“{milestones._name(milestone)}” goes to Upwork now; the payment shows after the "
            "next sync.",
        )
    return _back_to(pk, f"milestone-{milestone.pk}")


@login_required
@require_POST
def milestone_changes(request, pk, ms_pk):
    milestone = _milestone_of(request, pk, ms_pk)
    try:
        milestones.request_changes(request.user, milestone, request.POST.get("comment", ""))
    except NotAllowed as exc:
        return HttpResponseForbidden(str(exc))
    except (RuleViolation, InvalidTransition) as exc:
        _refused(request, "Changes not asked for", exc)
    else:
        messages.success(
            request,
            f"Changes asked for “{milestones._name(milestone)}”: Upwork tells the freelancer now.",
        )
    return _back_to(pk, f"milestone-{milestone.pk}")


@login_required
@require_POST
def milestone_activate(request, pk, ms_pk):
    milestone = _milestone_of(request, pk, ms_pk)
    try:
        milestones.activate(request.user, milestone, request.POST.get("message", ""))
    except NotAllowed as exc:
        return HttpResponseForbidden(str(exc))
    except (RuleViolation, InvalidTransition) as exc:
        _refused(request, "Not funded", exc)
    else:
        messages.success(request, f"“{milestones._name(milestone)}” is being funded on Upwork.")
    return _back_to(pk, f"milestone-{milestone.pk}")


@login_required
@require_POST
def week_approve(request, pk, week):
    engagement = permissions.engagement_or_404(request.user, pk, what_was_asked(request))
    try:
        try:
            week_start = dt.date.fromisoformat(week)
        except ValueError:
            raise RuleViolation(
                [Problem("week_start", f"{week[:20]!r} is not a date (YYYY-MM-DD)")]
            ) from None
        milestones.approve_week(
            request.user, engagement, week_start, request.POST.get("comment", "")
        )
    except NotAllowed as exc:
        return HttpResponseForbidden(str(exc))
    except (RuleViolation, InvalidTransition) as exc:
        _refused(request, "Week not approved", exc)
        return _back_to(pk, "hours")
    messages.success(request, f"The hours of the week of {week_start.isoformat()} are approved.")
    return _back_to(pk, f"week-{week_start.isoformat()}")
