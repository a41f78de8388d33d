"""Sourcing on the marketplace (Upwork): post the job, shortlist and pick a proposal, send the
offer, invite a named freelancer. Spend and its alerts.

Actions here decide and record (one transaction, one audit event each) and queue outbox jobs;
only the jobs (``run_*`` below, registered in ``tasks``) call Upwork. Jobs are check-then-act:
an offer whose proposal Upwork already shows as offered is not sent twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.dispatch import Signal
from django.urls import reverse

from gigbridge import clock, limits
from gigbridge.audit.actions import record
from gigbridge.domainerrors import InvalidTransition, Problem, RuleViolation
from gigbridge.engagements import compliance, permissions, refusals
from gigbridge.engagements.actions import transition_engagement
from gigbridge.engagements.models import Engagement, WorkRequest
from gigbridge.integrations.upwork import operations as ops
from gigbridge.integrations.upwork.errors import PermanentUpworkError
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.errors import RetryableError
from gigbridge.notifications.actions import mail
from gigbridge.people import actions as people
from gigbridge.people import capabilities
from gigbridge.people import queries as people_queries
from gigbridge.people.models import Person, Role
from gigbridge.program import actions as program

from .models import (
    MarketplaceOffer,
    Payment,
    Proposal,
    Sourcing,
    SpendAlert,
)

log = logging.getLogger(__name__)

POST_JOB = "engagements.post_job"
SHORTLIST_JOB = "engagements.shortlist"
OFFER_JOB = "engagements.send_offer"
INVITE_JOB = "engagements.invite"
THRESHOLDS = (80, 100)
CENTS = Decimal("0.01")
# Upwork posts budgets, makes offers and bills in US dollars; budgets are in the program's
# currency, converted at the policy's program.exchange_rates.
MARKETPLACE_CURRENCY = "USD"

# The engagement's job was posted on the marketplace (sent with ``sender=Sourcing`` inside the
# transaction that stores the posting id, after its audit event). Arguments: engagement,
# job_posting_id. Conversations starts the engagement's Teams thread on it.
job_posted = Signal()


def organization_id() -> str:
    from gigbridge.integrations.upwork import connection

    return connection.config().get("organization_id") or ""


def _require(user, engagement: Engagement, what: str) -> None:
    if not permissions.may_run_engagement(user, engagement):
        reason = f"only the hiring manager or a program admin can {what}"
        raise capabilities.deny(user, "marketplace", engagement, reason)


def sourcing_of(engagement: Engagement) -> Sourcing:
    sourcing, _ = Sourcing.objects.get_or_create(
        engagement=engagement,
        defaults={"organization_id": organization_id(), "updated_at": clock.now()},
    )
    return sourcing


def _locked(engagement: Engagement) -> Engagement:
    return (
        Engagement.objects.select_for_update(of=("self",))
        .select_related("request", "request__requester", "request__cost_center", "freelancer")
        .get(pk=engagement.pk)
    )


# --- job posting ---------------------------------------------------------------------------


def queue_posting(engagement: Engagement) -> bool:
    """On approval (inside its transaction): a marketplace request gets a job posting, when
    Upwork is configured. No audit event of its own: the posting job records the outcome."""
    from gigbridge.integrations.upwork import connection

    if (
        not connection.configured()
        or engagement.request.sourcing != WorkRequest.Sourcing.MARKETPLACE
    ):
        return False
    sourcing = sourcing_of(engagement)
    if sourcing.posting_state != Sourcing.Posting.NONE:
        return False
    Sourcing.objects.filter(pk=sourcing.pk).update(
        posting_state=Sourcing.Posting.QUEUED, updated_at=clock.now()
    )
    jobs.enqueue(POST_JOB, {"engagement_id": engagement.pk}, key=f"{POST_JOB}:{engagement.pk}")
    return True


@transaction.atomic
def post_job(user, engagement: Engagement) -> Sourcing:
    """Post (or post again after a failure) the engagement's job on the marketplace."""
    engagement = _locked(engagement)
    _require(user, engagement, "post the job")
    if engagement.state != Engagement.State.SOURCING:
        raise InvalidTransition(f"{engagement.reference} is {engagement.state}, not sourcing")
    sourcing = sourcing_of(engagement)
    if sourcing.posting_state in (Sourcing.Posting.QUEUED, Sourcing.Posting.POSTED):
        raise InvalidTransition(
            f"the job of {engagement.reference} is already {sourcing.posting_state}"
        )
    attempt = 1 + Sourcing.objects.filter(pk=sourcing.pk, last_error__gt="").count()
    sourcing.posting_state, sourcing.last_error = Sourcing.Posting.QUEUED, ""
    sourcing.updated_at = clock.now()
    sourcing.save()
    jobs.enqueue(
        POST_JOB,
        {"engagement_id": engagement.pk},
        key=f"{POST_JOB}:{engagement.pk}:{clock.now().isoformat()}:{attempt}",
    )
    record(
        user=user,
        action="marketplace.posting_queued",
        obj=engagement,
        after={"organization": sourcing.organization_id},
    )
    return sourcing


def _job_description(request: WorkRequest) -> str:
    lines = [request.description.strip(), ""]
    if request.deliverables:
        lines += ["Deliverables:", *[f"- {d}" for d in request.deliverables], ""]
    lines.append(f"Dates: {request.start_date.isoformat()} to {request.end_date.isoformat()}")
    lines.append(f"Budget: {request.budget} {request.currency} ({request.pricing})")
    return "\n".join(lines)


def run_post_job(engagement_id: int) -> str:
    from gigbridge.integrations.upwork import connection

    sourcing = Sourcing.objects.select_related("engagement__request").get(
        engagement_id=engagement_id
    )
    if sourcing.job_posting_id:
        return "already posted"  # check-then-act: a retry after success does nothing
    request = sourcing.engagement.request
    hourly = request.pricing == WorkRequest.Pricing.HOURLY
    try:
        result = ops.create_job_posting(
            connection.client(sourcing.organization_id or None),
            title=request.title,
            description=_job_description(request),
            contract_type="HOURLY" if hourly else "FIXED_PRICE",
            skills=list(request.skills),
            budget=None
            if hourly
            else ops.money(_in_marketplace(request.budget), MARKETPLACE_CURRENCY),
        )
    except PermanentUpworkError as error:
        with transaction.atomic():
            Sourcing.objects.filter(pk=sourcing.pk).update(
                posting_state=Sourcing.Posting.FAILED,
                last_error=str(error)[:500],
                updated_at=clock.now(),
            )
            record(
                user=None,
                actor="upwork",
                action="marketplace.posting_failed",
                obj=sourcing.engagement,
                after={"error": str(error)[:500]},
            )
        raise
    if not result.id:
        raise ops.MalformedResponse("no job posting id", operation="CreateJobPosting")
    with transaction.atomic():
        Sourcing.objects.filter(pk=sourcing.pk).update(
            job_posting_id=result.id,
            posting_state=Sourcing.Posting.POSTED,
            last_error="",
            updated_at=clock.now(),
        )
        record(
            user=None,
            actor="upwork",
            action="marketplace.job_posted",
            obj=sourcing.engagement,
            after={"job_posting_id": result.id},
        )
        job_posted.send(Sourcing, engagement=sourcing.engagement, job_posting_id=result.id)
    return result.id


# --- proposals -----------------------------------------------------------------------------


@transaction.atomic
def shortlist(user, proposal: Proposal) -> Proposal:
    engagement = _locked(proposal.engagement)
    _require(user, engagement, "shortlist proposals")
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.shortlisted:
        return proposal
    proposal.shortlisted = True
    proposal.save(update_fields=["shortlisted"])
    jobs.enqueue(SHORTLIST_JOB, {"proposal_id": proposal.pk}, key=f"{SHORTLIST_JOB}:{proposal.pk}")
    record(
        user=user,
        action="marketplace.shortlisted",
        obj=engagement,
        after={"proposal": proposal.upwork_id, "freelancer": proposal.freelancer_name},
    )
    return proposal


def run_shortlist(proposal_id: int) -> None:
    from gigbridge.integrations.upwork import connection

    proposal = Proposal.objects.select_related("engagement__sourcing").get(pk=proposal_id)
    if proposal.state.upper() in ("SHORTLISTED", "OFFERED", "HIRED"):
        return
    sourcing = proposal.engagement.sourcing
    result = ops.shortlist_proposal(
        connection.client(sourcing.organization_id or None),
        proposal.upwork_id,
        job_posting_id=sourcing.job_posting_id,
    )
    state = result.proposal.state if result.proposal else None
    if state:
        Proposal.objects.filter(pk=proposal.pk).update(state=state)


def freelancer_problems(
    person: Person, request: WorkRequest, policy, works_from: str = ""
) -> list[Problem]:
    """The compliance checks again, on the chosen freelancer: blocked country (where they are
    on record and where the marketplace says they work from), cooling-off, required
    agreements, tenure."""
    problems: list[Problem] = []
    rules = policy.compliance
    countries = list(dict.fromkeys(c for c in (person.country, works_from) if c))
    for country in countries:
        if country in rules.blocked_countries:
            problems.append(
                Problem(
                    "freelancer",
                    f"workers in {country} cannot be engaged",
                    "compliance.blocked_countries",
                )
            )
    if not countries and rules.blocked_countries:  # unknown is not the same as allowed
        problems.append(
            Problem(
                "freelancer",
                f"where {person.email} works from is unknown: record their country first",
                "compliance.blocked_countries",
            )
        )
    problems += [
        Problem("freelancer", p.message, p.rule)
        for p in compliance.check_cooling_off(person.email, request.start_date, policy)
    ]
    missing = people_queries.missing_agreements(person, policy, request.start_date)
    if missing:
        problems.append(
            Problem(
                "freelancer",
                f"{person.email} has not signed {', '.join(missing)}",
                "compliance.required_agreements",
            )
        )
    days = (request.end_date - request.start_date).days + 1
    if days > rules.max_engagement_days:
        problems.append(
            Problem(
                "contract_end",
                f"{days} days is longer than the program allows ({rules.max_engagement_days})",
                "compliance.max_engagement_days",
            )
        )
    return problems


def offer_cost(contract_type: str, amount: Decimal, hourly_rate, weekly_hours, request) -> Decimal:
    """The most an offer can cost: the fixed price, or rate x weekly limit x weeks of the
    request's dates (a started week counts whole)."""
    if contract_type == "HOURLY":
        days = (request.end_date - request.start_date).days + 1
        weeks = -(-days // 7)
        return Decimal(hourly_rate) * int(weekly_hours) * weeks
    return Decimal(amount)


def _within_bounds(values: dict, kinds: dict) -> None:
    """Nothing out of bounds (a negative rate, 1e30) is queued for the marketplace, whichever
    way it came in; the API refuses it earlier with the same bounds."""
    bounds = limits.violations(values, kinds)
    if bounds:
        raise RuleViolation([Problem(field, message) for field, message in bounds])


def _refuse(user, engagement: Engagement, problems: list[Problem], what: dict) -> None:
    with transaction.atomic():
        record(
            user=user,
            action="marketplace.offer_refused",
            obj=engagement,
            after={**what, "problems": [str(p) for p in problems]},
        )
        refusals.record_refusals(user, engagement.request, problems, "offer")
    raise RuleViolation(problems)


def pick(
    user,
    proposal: Proposal,
    *,
    amount: Decimal | None = None,
    hourly_rate: Decimal | None = None,
    weekly_hours: int | None = None,
    message: str = "",
) -> MarketplaceOffer:
    """Pick a proposal and send the offer with the approved terms. Refused, with the reason and
    an audit event, above the approved budget or when the freelancer breaks a program rule."""
    engagement = Engagement.objects.select_related("request").get(pk=proposal.engagement_id)
    _require(user, engagement, "pick a freelancer")
    terms = {"amount": amount, "hourly_rate": hourly_rate, "weekly_hours": weekly_hours}
    _within_bounds({**terms, "message": message}, limits.OFFER_FIELDS)
    request = engagement.request
    contract_type = "HOURLY" if request.pricing == WorkRequest.Pricing.HOURLY else "FIXED_PRICE"
    _, policy = program.current()
    # Offer amounts are in the marketplace's currency; the approved budget in the program's.
    amount = Decimal(amount) if amount is not None else _in_marketplace(request.budget, policy)
    problems: list[Problem] = []
    if contract_type == "HOURLY" and (not hourly_rate or not weekly_hours):
        problems.append(Problem("hourly_rate", "an hourly offer needs a rate and weekly hours"))
    else:
        cost = offer_cost(contract_type, amount, hourly_rate, weekly_hours, request)
        counted = policy.to_program_currency(cost, MARKETPLACE_CURRENCY)
        if cost <= 0:
            problems.append(Problem("amount", "must be more than zero"))
        elif counted > request.budget:
            at_rate = (
                ""
                if request.currency == MARKETPLACE_CURRENCY
                else f" ({counted:.2f} {request.currency} at the policy's exchange rate)"
            )
            problems.append(
                Problem(
                    "amount",
                    f"the offer can cost {cost:.2f} {MARKETPLACE_CURRENCY}{at_rate}, more than "
                    f"the approved budget of {request.budget} {request.currency}",
                    "budget",
                )
            )
    person = Person.objects.filter(email__iexact=proposal.freelancer_email).first()
    if not proposal.freelancer_email:
        problems.append(Problem("freelancer", "the proposal names no freelancer email"))
    elif person is not None:
        problems += freelancer_problems(person, request, policy, works_from=proposal.country)
    else:
        problems += _new_person_problems(proposal, request, policy)
    what = {"proposal": proposal.upwork_id, "amount": str(amount)}
    if problems:
        _refuse(user, engagement, problems, what)
    return _pick(user, proposal.pk, contract_type, amount, hourly_rate, weekly_hours, message)


def _new_person_problems(proposal: Proposal, request: WorkRequest, policy) -> list[Problem]:
    """A freelancer Gigbridge has never seen has signed nothing yet."""
    problems = []
    if proposal.country and proposal.country in policy.compliance.blocked_countries:
        problems.append(
            Problem(
                "freelancer",
                f"workers in {proposal.country} cannot be engaged",
                "compliance.blocked_countries",
            )
        )
    if policy.compliance.required_agreements:
        problems.append(
            Problem(
                "freelancer",
                f"{proposal.freelancer_email} has not signed "
                f"{', '.join(policy.compliance.required_agreements)}",
                "compliance.required_agreements",
            )
        )
    return problems


@transaction.atomic
def _pick(user, proposal_id, contract_type, amount, hourly_rate, weekly_hours, message):
    proposal = Proposal.objects.select_for_update().get(pk=proposal_id)
    engagement = _locked(proposal.engagement)
    if engagement.state != Engagement.State.SOURCING:
        raise InvalidTransition(f"{engagement.reference} is {engagement.state}, not sourcing")
    if engagement.offers.filter(
        state__in=[MarketplaceOffer.State.QUEUED, MarketplaceOffer.State.OPEN]
    ).exists():
        raise InvalidTransition(f"{engagement.reference} has an open offer already")
    request = engagement.request
    person, _ = Person.objects.get_or_create(
        email=proposal.freelancer_email.lower(),
        defaults={
            "kind": request.worker_category,
            "display_name": proposal.freelancer_name,
            "country": proposal.country,
        },
    )
    if proposal.country and not person.country:
        # Known before the pick without a country (e.g. sent the agreements to sign first): the
        # marketplace profile's country is what the blocked-countries rule and analytics read.
        person.country = proposal.country
        person.save(update_fields=["country"])
    proposal.picked = True
    proposal.save(update_fields=["picked"])
    engagement.freelancer = person
    engagement.save(update_fields=["freelancer"])
    terms = {
        "title": request.title,
        "start_date": request.start_date.isoformat(),
        "end_date": request.end_date.isoformat(),
        "message": message,
    }
    if contract_type == "HOURLY":
        terms |= {"hourly_rate": str(hourly_rate), "weekly_hours": int(weekly_hours)}
    offer = MarketplaceOffer.objects.create(
        engagement=engagement,
        proposal=proposal,
        contract_type=contract_type,
        amount=offer_cost(contract_type, amount, hourly_rate, weekly_hours, request),
        currency=MARKETPLACE_CURRENCY,
        terms=terms,
        created_at=clock.now(),
    )
    transition_engagement(None, engagement, Engagement.State.OFFERED, reason="proposal picked")
    jobs.enqueue(OFFER_JOB, {"offer_id": offer.pk}, key=f"{OFFER_JOB}:{offer.pk}")
    record(
        user=user,
        action="marketplace.offer_queued",
        obj=engagement,
        after={
            "proposal": proposal.upwork_id,
            "freelancer": person.email,
            "contract_type": contract_type,
            "amount": str(offer.amount),
        },
    )
    return offer


def run_send_offer(offer_id: int) -> str:
    from gigbridge.integrations.upwork import connection

    offer = MarketplaceOffer.objects.select_related(
        "engagement__request", "engagement__sourcing", "proposal"
    ).get(pk=offer_id)
    if offer.state != MarketplaceOffer.State.QUEUED or offer.upwork_id:
        return "already sent"
    sourcing = offer.engagement.sourcing
    client = connection.client(sourcing.organization_id or None)
    if offer.proposal is None:
        raise PermanentUpworkError("an Upwork offer is made on a proposal")
    # Check-then-act: an earlier attempt whose answer was lost shows as an offered proposal.
    # The same read names the freelancer's user and organization, which the offer needs.
    found = ops.get_proposal(client, offer.proposal.upwork_id)
    if found is None or found.freelancer is None or found.organization is None:
        raise PermanentUpworkError(f"Upwork does not show proposal {offer.proposal.upwork_id}")
    if (found.state or "").upper() in ("OFFERED", "HIRED"):
        _offer_sent(offer, None)
        return "sent before"
    terms = offer.terms
    request = offer.engagement.request
    hourly = offer.contract_type == "HOURLY"
    made = ops.offer_input(
        title=terms.get("title") or request.title,
        contract_type=offer.contract_type,
        client_team_id=ops.acting_organization_id(client, sourcing.organization_id or None),
        vendor_user_id=found.freelancer.id,
        vendor_team_id=found.organization.id,
        description=request.description,
        client_proposal_id=offer.proposal.upwork_id,
        job_posting_id=sourcing.job_posting_id or None,
        hourly_rate=terms.get("hourly_rate") if hourly else None,
        weekly_hours_limit=terms.get("weekly_hours") if hourly else None,
        milestones=[]
        if hourly
        else [{"description": request.title, "amount": offer.amount, "due": request.end_date}],
        start=request.start_date,
        currency=MARKETPLACE_CURRENCY,
    )
    try:
        result = ops.send_offer(client, made)
    except PermanentUpworkError as error:
        _offer_failed(offer, str(error))
        raise
    _offer_sent(offer, result.id)
    return result.id or ""


@transaction.atomic
def _offer_sent(offer: MarketplaceOffer, upwork_id: str | None) -> None:
    MarketplaceOffer.objects.filter(pk=offer.pk).update(
        upwork_id=upwork_id, state=MarketplaceOffer.State.OPEN, sent_at=clock.now()
    )
    if offer.proposal_id:
        Proposal.objects.filter(pk=offer.proposal_id).update(state="OFFERED")
    record(
        user=None,
        actor="upwork",
        action="marketplace.offer_sent",
        obj=offer.engagement,
        after={"offer": upwork_id, "amount": str(offer.amount)},
    )


@transaction.atomic
def _offer_failed(offer: MarketplaceOffer, error: str) -> None:
    MarketplaceOffer.objects.filter(pk=offer.pk).update(
        state=MarketplaceOffer.State.FAILED, error=error[:500]
    )
    Proposal.objects.filter(pk=offer.proposal_id).update(picked=False)
    engagement = Engagement.objects.get(pk=offer.engagement_id)
    if engagement.state == Engagement.State.OFFERED:
        transition_engagement(None, engagement, Engagement.State.SOURCING, reason="offer failed")
    record(
        user=None,
        actor="upwork",
        action="marketplace.offer_failed",
        obj=engagement,
        after={"error": error[:500]},
    )


# --- direct sourcing -----------------------------------------------------------------------


@transaction.atomic
def invite(user, engagement: Engagement, profile_key: str, message: str = "") -> None:
    """Direct sourcing: invite the named freelancer (their Upwork profile key) to the job."""
    engagement = _locked(engagement)
    _require(user, engagement, "invite a freelancer")
    profile_key = (profile_key or "").strip()
    if not profile_key:
        raise RuleViolation([Problem("profile_key", "name the freelancer's Upwork profile key")])
    _within_bounds(
        {"profile_key": profile_key, "message": message},
        {"profile_key": limits.RequiredCode, "message": limits.Comment},
    )
    if engagement.state != Engagement.State.SOURCING:
        raise InvalidTransition(f"{engagement.reference} is {engagement.state}, not sourcing")
    sourcing = sourcing_of(engagement)
    if sourcing.posting_state == Sourcing.Posting.NONE:
        Sourcing.objects.filter(pk=sourcing.pk).update(posting_state=Sourcing.Posting.QUEUED)
        jobs.enqueue(POST_JOB, {"engagement_id": engagement.pk}, key=f"{POST_JOB}:{engagement.pk}")
    jobs.enqueue(
        INVITE_JOB,
        {
            "engagement_id": engagement.pk,
            "profile_key": profile_key,
            "message": message or f"We would like to invite you to {engagement.request.title}.",
        },
        key=f"{INVITE_JOB}:{engagement.pk}:{profile_key}",
    )
    record(
        user=user, action="marketplace.invited", obj=engagement, after={"profile_key": profile_key}
    )


def run_invite(payload: dict) -> None:
    from gigbridge.integrations.upwork import connection

    sourcing = Sourcing.objects.get(engagement_id=payload["engagement_id"])
    if not sourcing.job_posting_id:
        raise RetryableError("waiting for the job posting", retry_after=30)
    if Proposal.objects.filter(
        engagement_id=sourcing.engagement_id, profile_key=payload["profile_key"]
    ).exists():
        return  # they proposed already
    client = connection.client(sourcing.organization_id or None)
    freelancer = ops.freelancer_id(client, payload["profile_key"])
    if not freelancer:
        raise PermanentUpworkError(f"Upwork knows no profile {payload['profile_key']!r}")
    ops.invite_freelancer(client, sourcing.job_posting_id, freelancer, payload["message"])


# --- spend ---------------------------------------------------------------------------------


def _in_marketplace(amount: Decimal, policy=None) -> Decimal:
    """A program-currency amount in the marketplace's currency (rounded down: still a limit)."""
    policy = policy or program.current()[1]
    return policy.from_program_currency(amount, MARKETPLACE_CURRENCY)


def offer_limit(request: WorkRequest) -> Decimal:
    """The most an offer may cost, in the marketplace's currency."""
    return _in_marketplace(request.budget)


def spent(engagement: Engagement) -> Decimal:
    """Paid on the engagement, in the program's currency (as converted when synced)."""
    paid = engagement.payments.aggregate(total=Sum("amount_program"))["total"]
    return (paid or Decimal("0")).quantize(CENTS)


def cost_center_actual(cost_center, policy, day: dt.date) -> Decimal:
    """Paid in the fiscal year containing ``day`` on engagements of the cost center."""
    start, end = compliance.fiscal_year_bounds(policy, day)
    total = Payment.objects.filter(
        engagement__request__cost_center=cost_center,
        engagement__request__start_date__gte=start,
        engagement__request__start_date__lte=end,
    ).aggregate(total=Sum("amount_program"))["total"] or Decimal("0")
    return total.quantize(CENTS)


def cost_center_alert_recipients(cost_center) -> list:
    """The cost center's owner (the policy names one per cost center); while the owner has no
    active account, the program admins, so the alert is not lost."""
    owner = (
        get_user_model()
        .objects.filter(email__iexact=cost_center.owner_email, is_active=True)
        .first()
    )
    if owner is not None:
        return [owner]
    return list(people.users_with_role(Role.PROGRAM_ADMIN).filter(is_active=True))


def new_thresholds(scope: str, amount: Decimal, budget: Decimal) -> list[int]:
    """The thresholds ``amount`` has reached on ``budget`` that ``scope`` has not alerted yet."""
    if budget <= 0:
        return []
    reached = [t for t in THRESHOLDS if amount * 100 >= budget * t]
    done = set(
        SpendAlert.objects.filter(scope=scope, threshold__in=reached).values_list(
            "threshold", flat=True
        )
    )
    return [t for t in reached if t not in done]


def check_spend_alerts(engagement: Engagement) -> list[str]:
    """Inside the caller's transaction: alert at 80% and 100% of the engagement's budget (to the
    hiring manager) and of its cost center's annual budget (to the cost center's owner), each
    once, when crossed. A payment that crosses both thresholds at once sends one alert, at 100%;
    a row per scope and threshold records that a threshold is done (the unique constraint
    keeps it once even if two syncs race)."""
    request = engagement.request
    _, policy = program.current()
    cost_center = request.cost_center
    fy_start, _ = compliance.fiscal_year_bounds(policy, request.start_date)
    scopes = [
        {
            "scope": f"engagement:{engagement.pk}",
            "kind": "engagement",
            "name": f"{engagement.reference} {request.title}",
            "spent": spent(engagement),
            "budget": request.budget,
            "currency": request.currency,
            "users": [request.requester],
            "path": reverse("web:engagement-detail", args=[engagement.pk]),
        },
        {
            "scope": f"cost_center:{cost_center.code}:{fy_start.isoformat()}",
            "kind": "cost_center",
            "name": f"{cost_center.code} {cost_center.name} (fiscal year from {fy_start})",
            "spent": cost_center_actual(cost_center, policy, request.start_date),
            "budget": cost_center.annual_budget,
            "currency": policy.program.currency,
            "users": cost_center_alert_recipients(cost_center),
            "path": reverse("web:policy") + f"#cc-{cost_center.code}",
        },
    ]
    sent = []
    now = clock.now()
    for alert in scopes:
        scope, amount, budget = alert["scope"], alert["spent"], alert["budget"]
        crossed = [
            threshold
            for threshold in new_thresholds(scope, amount, budget)
            # Only the pass that made the row alerts (another pass may have raced it).
            if SpendAlert.objects.get_or_create(
                scope=scope,
                threshold=threshold,
                defaults={"spent": amount, "budget": budget, "sent_at": now},
            )[1]
        ]
        if not crossed:
            continue
        threshold = max(crossed)
        sent.append(f"{scope}@{threshold}")
        record(
            user=None,
            actor="spend",
            action="spend.alert",
            obj=engagement,
            after={
                "scope": scope,
                "threshold": threshold,
                "crossed": crossed,
                "spent": str(amount),
                "budget": str(budget),
                "currency": alert["currency"],
                "recipients": sorted(u.email for u in alert["users"]),
            },
        )
        context = {
            "scope": scope,
            "kind": alert["kind"],
            "name": alert["name"],
            "threshold": threshold,
            "spent": str(amount),
            "budget": str(budget),
            "over": str(max(amount - budget, Decimal("0"))),
            "currency": alert["currency"],
            "reference": engagement.reference,
            "title": request.title,
            "path": alert["path"],
        }
        for user in {u.pk: u for u in alert["users"]}.values():
            mail(user, "spend_alert", context, key=f"{scope}:{threshold}")
    return sent
