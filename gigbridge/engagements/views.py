"""Web pages for requests, approvals and engagements (server-rendered, htmx where it helps)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from gigbridge import limits, securitylog
from gigbridge.access.names import grant_places
from gigbridge.audit.describe import describe_all
from gigbridge.conversations.queries import summary as conversation_summary
from gigbridge.domainerrors import InvalidTransition, NotAllowed, Problem, RuleViolation
from gigbridge.files import queries as deliverables
from gigbridge.people import actions as people
from gigbridge.people import capabilities
from gigbridge.people import queries as people_queries
from gigbridge.people.models import Person
from gigbridge.program import actions as program
from gigbridge.program import reach
from gigbridge.sourcing import ending, milestones
from gigbridge.sourcing.queries import marketplace_view

from . import actions, direct, links, permissions
from .forms import DecisionForm, RequestForm, TransitionForm
from .models import ApprovalStep, Engagement, WorkRequest
from .schemas import RequestFilter


def _add_problems(form, exc: RuleViolation) -> None:
    for problem in exc.problems:
        message = problem.message + (f" (policy rule: {problem.rule})" if problem.rule else "")
        form.add_error(problem.field if problem.field in form.fields else None, message)


def what_was_asked(request) -> str:
    """The operation, as the security log names it."""
    return f"{request.method} {request.path}"


def _page(request, qs, per_page=25):
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


@login_required
def request_list(request):
    # Cut to the API's bounds (a search box answers, rather than an error page).
    state = request.GET.get("state", "")[: limits.CODE_MAX]
    q = request.GET.get("q", "")[: limits.SEARCH_MAX]
    filters = RequestFilter(state=state or None, q=q or None)
    qs = filters.filter(permissions.visible_requests(request.user))
    scope = request.GET.get("scope", "mine")
    if scope == "mine":
        qs = qs.filter(requester=request.user)
    context = {
        "page": _page(request, qs),
        "states": WorkRequest.State.choices,
        "scope": scope,
        "filters": filters,
    }
    template = (
        "engagements/_request_rows.html"
        if request.headers.get("HX-Request") == "true"
        else "engagements/request_list.html"
    )
    return render(request, template, context)


@login_required
def request_new(request):
    capabilities.require(
        request.user, capabilities.Capability.CREATE_REQUESTS, what_was_asked(request)
    )
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            work_request = actions.create_request(request.user, form.to_data())
        except RuleViolation as exc:
            _add_problems(form, exc)
        else:
            if "submit" in request.POST:
                return _submit(request, work_request)
            messages.success(request, f"{work_request.reference} saved as a draft.")
            return redirect("web:request-detail", pk=work_request.pk)
    return render(request, "engagements/request_form.html", {"form": form, "creating": True})


@login_required
def request_edit(request, pk):
    work_request = permissions.own_request(request.user, pk, what_was_asked(request))
    form = RequestForm(request.POST or None, initial=RequestForm.initial_from(work_request))
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_request(request.user, work_request, form.to_data())
        except RuleViolation as exc:
            _add_problems(form, exc)
        except InvalidTransition as exc:
            messages.error(request, str(exc))
            return redirect("web:request-detail", pk=pk)
        else:
            if "submit" in request.POST:
                return _submit(request, work_request)
            messages.success(request, "Saved.")
            return redirect("web:request-detail", pk=pk)
    return render(
        request, "engagements/request_form.html", {"form": form, "work_request": work_request}
    )


def _submit(request, work_request):
    try:
        work_request = actions.submit_request(request.user, work_request)
    except (RuleViolation, InvalidTransition, NotAllowed) as exc:
        messages.error(request, f"Not submitted: {exc}")
    else:
        messages.success(request, f"{work_request.reference} submitted; approvers are notified.")
    return redirect("web:request-detail", pk=work_request.pk)


@login_required
def request_detail(request, pk):
    work_request = permissions.request_or_404(request.user, pk, what_was_asked(request))
    steps = work_request.steps.select_related(
        "assignee", "decided_by", "escalated_to", "decided_on_behalf_of", "policy_version"
    )
    engagement = Engagement.objects.filter(request=work_request).first()
    return render(
        request,
        "engagements/request_detail.html",
        {
            "r": work_request,
            "steps": steps,
            "engagement": engagement,
            "timeline": describe_all(actions.request_timeline(work_request)),
            "is_requester": work_request.requester_id == request.user.pk,
            "workspace_reach": reach.of_request(work_request),
        },
    )


@login_required
@require_POST
def request_submit(request, pk):
    return _submit(request, permissions.own_request(request.user, pk, what_was_asked(request)))


@login_required
@require_POST
def request_withdraw(request, pk):
    work_request = permissions.own_request(request.user, pk, what_was_asked(request))
    if not request.POST.get("confirm"):
        # Withdrawing cannot be undone: never on one click, never by default.
        messages.error(request, f"Tick “Yes, withdraw {work_request.reference}” to withdraw it.")
        return redirect("web:request-detail", pk=pk)
    try:
        actions.withdraw_request(request.user, work_request, request.POST.get("comment", ""))
        messages.success(request, f"{work_request.reference} withdrawn.")
    except (InvalidTransition, NotAllowed, RuleViolation) as exc:
        messages.error(request, str(exc))
    return redirect("web:request-detail", pk=pk)


@login_required
def approvals_inbox(request):
    steps = actions.inbox(request.user).select_related("policy_version")
    return render(request, "engagements/approvals.html", {"page": _page(request, steps, 50)})


def _decision_page(request, step: ApprovalStep, link=None, token: str = ""):
    allowed, on_behalf_of = actions.may_decide(request.user, step)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.decide(
                request.user,
                step,
                form.cleaned_data["decision"],
                form.cleaned_data["comment"],
                link=link,
            )
        except RuleViolation as exc:
            _add_problems(form, exc)
        except NotAllowed as exc:
            return render(request, "engagements/link_error.html", {"message": str(exc)}, status=403)
        except InvalidTransition as exc:
            messages.error(request, str(exc))
            return redirect("web:approvals")
        else:
            messages.success(request, f"Decision recorded for {step.request.reference}.")
            return redirect("web:approvals")
    if not allowed and (
        step.state == ApprovalStep.State.PENDING
        or not capabilities.can_view_request(request.user, step.request)
    ):
        return render(
            request,
            "engagements/link_error.html",
            {"message": "You are not an approver of this step."},
            status=403,
        )
    return render(
        request,
        "engagements/decision.html",
        {
            "step": step,
            "r": step.request,
            "facts": actions.decision_facts(step),
            "form": form,
            "on_behalf_of": on_behalf_of,
            "token": token,
            "allowed": allowed,
            "other_steps": step.request.steps.filter(round=step.round).select_related(
                "decided_by", "assignee"
            ),
            **_direct_hire_agreements(request.user, step.request),
        },
    )


def _direct_hire_agreements(user, work_request) -> dict:
    """For a direct hire: the named freelancer's required agreements on the start date, so
    approvers see them before they decide."""
    if not work_request.freelancer_email:
        return {}
    _, policy = program.current()
    person = Person.objects.filter(email__iexact=work_request.freelancer_email).first()
    rows = people.agreement_status(
        person, list(policy.compliance.required_agreements), work_request.start_date
    )
    return {
        "freelancer_agreements": rows,
        "freelancer_missing": [r["name"] for r in rows if r["state"] != "signed"],
        "can_send_for_signature": capabilities.can_send_for_signature(user),
        "can_record_agreements": capabilities.can_record_agreements(user),
    }


@login_required
def decision(request, pk):
    step = permissions.step_or_404(request.user, pk, what_was_asked(request))
    return _decision_page(request, step)


@login_required
def decision_link(request, token):
    """A mailed link: valid only for its recipient, once, before it expires."""
    try:
        link = links.resolve(token, request.user)
    except links.LinkError as exc:
        # Not request.path: the token in it still works for the person it was sent to.
        securitylog.refused(request.user, "open decision link", status=400, reason=str(exc))
        return render(request, "engagements/link_error.html", {"message": str(exc)}, status=400)
    return _decision_page(request, link.step, link=link, token=token)


@login_required
def engagement_list(request):
    qs = permissions.visible_engagements(request.user)
    state = request.GET.get("state")
    if state:
        qs = qs.filter(state=state)
    return render(
        request,
        "engagements/engagement_list.html",
        {
            "page": _page(request, qs),
            "states": Engagement.State.choices,
            "state": state,
            "page_extra": f"&{urlencode({'state': state})}" if state else "",
        },
    )


@login_required
def engagement_detail(request, pk):
    engagement = permissions.engagement_or_404(request.user, pk, what_was_asked(request))
    return engagement_page(request, engagement)


# Moves that end an engagement ask the admin to confirm (a ticked "I am sure").
CONFIRM_STATES = (
    Engagement.State.CANCELLED,
    Engagement.State.OFFBOARDING,
    Engagement.State.CLOSED,
)

# Pick form fields that show their own errors; any other problem shows above the form.
PICK_FIELDS = ("amount", "hourly_rate", "weekly_hours")


def engagement_page(request, engagement, refused=None, problems=(), start_problems=()):
    """The engagement page; after a refused pick (or contract start), the reasons at that
    form's fields and what was typed kept."""
    form = None
    if capabilities.can_manage_engagements(request.user):
        form = TransitionForm()
        # No state is chosen for the admin: cancelling must never be what "submit" does.
        form.fields["state"].choices = [("", "choose…")] + [
            (s, s) for s in sorted(actions.ENGAGEMENT_TRANSITIONS[engagement.state])
        ]
    m = marketplace_view(engagement)
    deliverables.annotate_milestones(m["milestones"])
    m["overspent"] = max(m["spent"] - m["budget"], 0)
    agreements = _agreements_needed(request.user, engagement, m["proposals"])
    for proposal in m["proposals"]:
        if refused is not None and proposal.pk == refused.pk:
            errors: dict[str, list[str]] = {}
            for problem in problems:
                where = problem.field if problem.field in PICK_FIELDS else "other"
                rule = f" (policy rule: {problem.rule})" if problem.rule else ""
                errors.setdefault(where, []).append(problem.message + rule)
            proposal.pick_errors = errors
            proposal.pick_values = {f: request.POST.get(f, "") for f in PICK_FIELDS}
    return render(
        request,
        "engagements/engagement_detail.html",
        {
            "e": engagement,
            "access_grants": grant_places(engagement.grants.all()),
            "conversation": conversation_summary(engagement),
            "timeline": describe_all(actions.timeline(engagement)),
            "form": form,
            "m": m,
            "may_source": permissions.may_run_engagement(request.user, engagement)
            and engagement.state == Engagement.State.SOURCING,
            "direct_hire": engagement.request.sourcing == WorkRequest.Sourcing.DIRECT,
            **agreements,
            **ending.page_context(request.user, engagement),
            **direct.page_context(
                request.user, engagement, start_problems, request.POST if start_problems else None
            ),
            **milestones.page_context(request.user, engagement, m),
            **deliverables.engagement_section(engagement),
        },
    )


def _agreements_needed(user, engagement, proposals) -> dict:
    """The required agreements the freelancer (and each proposal's freelancer) miss on the
    start date, so the page can say which and offer sending or recording them."""

    _, policy = program.current()
    start = engagement.request.start_date
    emails = {p.freelancer_email.lower() for p in proposals if p.freelancer_email}
    persons = {
        p.email.lower(): p
        for p in Person.objects.filter(email__in=emails).prefetch_related("agreements")
    }
    for proposal in proposals:
        email = (proposal.freelancer_email or "").lower()
        proposal.missing_agreements = (
            people_queries.missing_agreements(persons.get(email), policy, start) if email else []
        )
    freelancer = engagement.freelancer
    return {
        "freelancer_missing": people_queries.missing_agreements(freelancer, policy, start)
        if freelancer
        else [],
        "can_send_for_signature": capabilities.can_send_for_signature(user),
        "can_record_agreements": capabilities.can_record_agreements(user),
    }


@login_required
@require_POST
def engagement_transition(request, pk):
    engagement = permissions.engagement_or_404(request.user, pk, what_was_asked(request))
    capabilities.require(
        request.user,
        capabilities.Capability.MANAGE_ENGAGEMENTS,
        what_was_asked(request),
        engagement,
    )
    to_state = request.POST.get("state", "")
    if not to_state:
        messages.error(request, "Choose the state to move the engagement to.")
        return redirect("web:engagement-detail", pk=pk)
    if to_state in CONFIRM_STATES and not request.POST.get("confirm"):
        messages.error(
            request,
            f"Moving {engagement.reference} to {to_state} cannot be undone: tick “I am sure” "
            "to confirm.",
        )
        return redirect("web:engagement-detail", pk=pk)
    try:
        actions.transition_engagement(
            request.user, engagement, to_state, request.POST.get("reason", "")
        )
        messages.success(request, "Engagement updated.")
    except (RuleViolation, InvalidTransition) as exc:
        messages.error(request, str(exc))
    return redirect("web:engagement-detail", pk=pk)


@login_required
@require_POST
def engagement_start(request, pk):
    """Start a direct hire's contract from the engagement page (engagements/_start_contract.html).
    A refusal shows the page again with the reasons at their fields and what was typed."""
    engagement = permissions.engagement_or_404(request.user, pk, what_was_asked(request))
    if not permissions.may_run_engagement(request.user, engagement):
        raise capabilities.deny(
            request.user,
            what_was_asked(request),
            engagement,
            "only the hiring manager or a program admin can start the contract",
        )
    dates, problems = {}, []
    for field in ("start", "end"):
        text = (request.POST.get(field) or "").strip()
        try:
            dates[field] = dt.date.fromisoformat(text) if text else None
        except ValueError:
            problems.append(Problem(field, f"{text[:40]!r} is not a date (YYYY-MM-DD)"))
    try:
        if problems:
            raise RuleViolation(problems)
        engagement = direct.start_contract(request.user, engagement, **dates)
    except RuleViolation as exc:
        engagement.refresh_from_db()
        return engagement_page(request, engagement, start_problems=exc.problems)
    except InvalidTransition as exc:
        messages.error(request, f"Not started: {exc}")
        return redirect("web:engagement-detail", pk=pk)
    if engagement.state == Engagement.State.ACTIVE:
        done = "has started today"
    else:
        done = f"starts on {engagement.contract_start.isoformat()}"
    messages.success(
        request,
        f"The contract of {engagement.reference} {done}; access in Microsoft 365 follows.",
    )
    return redirect("web:engagement-detail", pk=pk)
