"""Polling Upwork (it has no webhooks): one pass per organization, scheduled.

A pass reads, for each engagement on the marketplace, its new proposals (from the stored page
cursor), its open offer, its contract (status and milestones) and its hours (a window from the
stored date watermark, overlapping a week back, since Upwork revises hours); then the
organization's transactions (from the stored date, overlapping two days). Every row is upserted
on its Upwork id, so an overlap or a repeated pass changes nothing; a cursor or watermark moves
in the same transaction as the rows it covers, so a crash or a 429 mid-pass loses nothing.

Changes become domain events: a proposal received (audited, hiring manager mailed), an offer
accepted (engagement contracted, which starts Microsoft 365 access), a milestone submitted
(hiring manager mailed; Outlook once a tenant is connected), hours and payments (spend, with
alerts at 80% and 100%), a contract ended (engagement offboarding, which removes access).

429 and 5xx raise the connector's retryable errors: the outbox runs the pass again later.
A malformed answer is logged with its operation and skipped; the rest of the pass goes on.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation

import pycountry
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gigbridge import clock, limits
from gigbridge.audit.actions import record
from gigbridge.domainerrors import InvalidTransition, RuleViolation
from gigbridge.engagements import refusals
from gigbridge.engagements.actions import transition_engagement
from gigbridge.engagements.models import Engagement
from gigbridge.integrations.upwork import operations as ops
from gigbridge.integrations.upwork.errors import MalformedResponse
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.errors import PermanentError
from gigbridge.jobs.models import OutboxJob
from gigbridge.notifications.actions import mail
from gigbridge.program import actions as program
from gigbridge.program.policy import UnknownCurrency

from . import actions as marketplace
from .hired import queue_decline_others
from .models import (
    MarketplaceOffer,
    Milestone,
    Payment,
    Proposal,
    Sourcing,
    SyncCursor,
    TimeEntry,
)

log = logging.getLogger(__name__)
SYNC_JOB = "engagements.upwork_sync"
SYNC_EVERY_MINUTES = 1  # a pass costs a few requests per hundred contracts
HOURS_OVERLAP = dt.timedelta(days=7)
PAYMENTS_OVERLAP = dt.timedelta(days=2)
LIVE = [
    Engagement.State.SOURCING,
    Engagement.State.OFFERED,
    Engagement.State.CONTRACTED,
    Engagement.State.ACTIVE,
]
# Engagements still owed payments after their contract ended.
PAYING = [*LIVE, Engagement.State.OFFBOARDING]


def schedule_sync() -> int:
    """Scheduled: one pass per organization and window, however many schedulers run, and
    none while the organization's previous pass is still unfinished (two at once would split
    the request budget and spend it twice)."""
    from gigbridge.integrations.upwork import connection

    if not connection.configured():
        return 0
    every = max(1, int(settings.UPWORK.get("sync_every_minutes") or SYNC_EVERY_MINUTES))
    now = clock.now()
    minutes = now.hour * 60 + now.minute
    window = now.replace(
        hour=(minutes - minutes % every) // 60,
        minute=(minutes - minutes % every) % 60,
        second=0,
        microsecond=0,
    )
    orgs = set(
        Sourcing.objects.filter(engagement__state__in=PAYING).values_list(
            "organization_id", flat=True
        )
    )
    running = set(
        OutboxJob.objects.filter(kind=SYNC_JOB, state=OutboxJob.State.PENDING).values_list(
            "payload__organization_id", flat=True
        )
    )
    queued = 0
    with transaction.atomic():
        for org in sorted(orgs - running):
            jobs.enqueue(
                SYNC_JOB, {"organization_id": org}, key=f"{SYNC_JOB}:{org}:{window.isoformat()}"
            )
            queued += 1
    return queued


def _cursor(org: str, stream: str) -> str:
    row = SyncCursor.objects.filter(organization_id=org, stream=stream).first()
    return row.value if row else ""


def _advance(org: str, stream: str, value: str) -> None:
    """Inside the transaction that stored what ``value`` covers."""
    SyncCursor.objects.update_or_create(
        organization_id=org, stream=stream, defaults={"value": value, "updated_at": clock.now()}
    )


def _malformed(error, what: str) -> None:
    log.warning(
        "upwork sync: %s skipped, malformed answer from %s: %s",
        what,
        getattr(error, "operation", "?"),
        error,
    )


def sync_organization(org: str) -> dict[str, int]:
    from gigbridge.integrations.upwork import connection

    client = connection.client(org or None)
    counts = {
        "proposals": 0,
        "contracted": 0,
        "milestones": 0,
        "hours": 0,
        "payments": 0,
        "ended": 0,
    }
    sourcings = Sourcing.objects.filter(
        organization_id=org, engagement__state__in=LIVE
    ).select_related("engagement__request")
    # Sourcing is per engagement (few at a time); contracts and hours are read in batches for
    # the whole organization, so a pass costs a few requests per hundred contracts.
    for sourcing in sourcings:
        engagement = sourcing.engagement
        for name, step in (("proposals", sync_proposals), ("offers", sync_offer)):
            try:
                for key, value in step(client, sourcing).items():
                    counts[key] = counts.get(key, 0) + value
            except MalformedResponse as error:
                _malformed(error, f"{name} of {engagement.reference}")
            sourcing.refresh_from_db()
    for name, step in (("contracts", sync_contracts), ("hours", sync_hours), ("payments", None)):
        try:
            if step is None:
                counts["payments"] += sync_payments(client, org)
                continue
            for key, value in step(client, org).items():
                counts[key] = counts.get(key, 0) + value
        except MalformedResponse as error:
            _malformed(error, name)
    return counts


def _contracted_sourcings(org: str) -> list[Sourcing]:
    return list(
        Sourcing.objects.filter(organization_id=org, engagement__state__in=LIVE)
        .exclude(contract_id="")
        .select_related("engagement__request")
        .order_by("pk")
    )


# --- proposals -----------------------------------------------------------------------------


def sync_proposals(client, sourcing: Sourcing) -> dict[str, int]:
    engagement = sourcing.engagement
    if not sourcing.job_posting_id or engagement.state != Engagement.State.SOURCING:
        return {}
    stream = f"proposals:{sourcing.job_posting_id}"
    new = 0
    start = _cursor(sourcing.organization_id, stream) or None
    fetch = lambda after: ops.list_client_proposals(client, sourcing.job_posting_id, after=after)  # noqa: E731
    for page in ops.pages(fetch, after=start):
        ids = [item.id for item in page.items if item.id]
        known = set(Proposal.objects.filter(upwork_id__in=ids).values_list("upwork_id", flat=True))
        # The list leaves out where a freelancer works from, which the compliance check needs:
        # one more read per new proposal, before the transaction (no network inside it).
        countries = {
            pid: country_of(ops.get_proposal(client, pid)) for pid in ids if pid not in known
        }
        with transaction.atomic():
            for item in page.items:
                new += _upsert_proposal(engagement, item, countries.get(item.id, ""))
            if page.end_cursor and page.items:
                _advance(sourcing.organization_id, stream, page.end_cursor)
    return {"proposals": new}


def country_of(proposal) -> str:
    """The ISO 3166 code of the country a proposal's freelancer works from ("" if unknown):
    Upwork names the country, compliance rules list codes."""
    location = proposal.user.location if proposal and proposal.user else None
    name = location.country_name if location else None
    if not name:
        return ""
    try:
        return pycountry.countries.lookup(name).alpha_2
    except LookupError:
        log.warning("unknown country name %r on proposal %s", name[:60], proposal.id)
        return ""


def _upsert_proposal(engagement: Engagement, item, country: str = "") -> int:
    if not item.id:
        return 0
    user = item.user
    values = {
        "freelancer_upwork_id": (user.id if user else "") or "",
        "freelancer_name": (user.name if user else "") or "",
        "freelancer_email": ((user.email if user else "") or "").lower(),
        "profile_key": (user.ciphertext if user else "") or "",
        "profile_url": (user.public_url if user else "") or "",
        "cover_letter": item.cover_letter or "",
        "state": item.state or "",
    }
    proposal, created = Proposal.objects.get_or_create(
        upwork_id=item.id,
        defaults={
            "engagement": engagement,
            "received_at": clock.now(),
            "country": country,
            **values,
        },
    )
    if not created:
        Proposal.objects.filter(pk=proposal.pk).update(**values)
        return 0
    record(
        user=None,
        actor="upwork",
        action="marketplace.proposal_received",
        obj=engagement,
        after={"proposal": item.id, "freelancer": values["freelancer_name"]},
    )
    mail(
        engagement.request.requester,
        "proposal_received",
        {
            "reference": engagement.reference,
            "title": engagement.request.title,
            "engagement_id": engagement.pk,
            "freelancer": values["freelancer_name"],
        },
        key=item.id,
    )
    return 1


# --- offers --------------------------------------------------------------------------------


def sync_offer(client, sourcing: Sourcing) -> dict[str, int]:
    engagement = sourcing.engagement
    offer = engagement.offers.filter(state=MarketplaceOffer.State.OPEN).last()
    if offer is None or not offer.upwork_id:
        return {}
    found = ops.get_offer(client, offer.upwork_id)
    state = ((found.state if found else "") or "").upper()
    if state in ("DECLINED", "WITHDRAWN", "EXPIRED"):
        _offer_closed(offer, state.lower())
        return {}
    if state != "ACCEPTED":
        return {}
    contract_id = _contract_of(client, offer)
    if not contract_id:
        return {}  # the room names it soon; the next pass looks again
    return {"contracted": _contracted(offer, contract_id)}


def _contract_of(client, offer: MarketplaceOffer) -> str:
    """The contract of an accepted offer: its room (``offerRoom``) names it."""
    room = ops.offer_room(client, offer.upwork_id)
    return (room.contract_id if room else "") or ""


@transaction.atomic
def _offer_closed(offer: MarketplaceOffer, state: str) -> None:
    MarketplaceOffer.objects.filter(pk=offer.pk).update(state=state, answered_at=clock.now())
    Proposal.objects.filter(pk=offer.proposal_id).update(picked=False, state=state.upper())
    engagement = Engagement.objects.get(pk=offer.engagement_id)
    record(
        user=None,
        actor="upwork",
        action=f"marketplace.offer_{state}",
        obj=engagement,
        after={"offer": offer.upwork_id},
    )
    if engagement.state == Engagement.State.OFFERED:
        transition_engagement(None, engagement, Engagement.State.SOURCING, reason=f"offer {state}")


def _contracted(offer: MarketplaceOffer, contract_id: str) -> int:
    with transaction.atomic():
        MarketplaceOffer.objects.filter(pk=offer.pk).update(
            state=MarketplaceOffer.State.ACCEPTED, answered_at=clock.now()
        )
        Proposal.objects.filter(pk=offer.proposal_id).update(state="HIRED")
        Sourcing.objects.filter(engagement_id=offer.engagement_id).update(
            contract_id=contract_id, contract_status="ACTIVE", updated_at=clock.now()
        )
        engagement = Engagement.objects.get(pk=offer.engagement_id)
        record(
            user=None,
            actor="upwork",
            action="marketplace.offer_accepted",
            obj=engagement,
            after={"offer": offer.upwork_id, "contract": contract_id},
        )
    try:
        with transaction.atomic():
            transition_engagement(
                None,
                engagement,
                Engagement.State.CONTRACTED,
                reason=f"offer accepted on Upwork (contract {contract_id})",
            )
            # Hired: the job's other proposals are declined and its posting closed.
            queue_decline_others(engagement)
    except (RuleViolation, InvalidTransition) as error:
        with transaction.atomic():
            Sourcing.objects.filter(engagement_id=engagement.pk).update(last_error=str(error)[:500])
            record(
                user=None,
                actor="upwork",
                action="marketplace.contract_blocked",
                obj=engagement,
                after={"error": str(error)[:500]},
            )
            if isinstance(error, RuleViolation):  # the transition's own trace rolled back
                refusals.record_refusals(None, engagement.request, error.problems, "contract")
        return 0
    return 1


# --- contract, milestones, hours -----------------------------------------------------------


def sync_contracts(client, org: str) -> dict[str, int]:
    """Every contract of the organization in batched reads (``ContractList``). Its milestones
    come without amounts: a contract with a milestone not seen before, or whose amount is not
    known yet, is read once more in full (``ContractDetails``)."""
    sourcings = {s.contract_id: s for s in _contracted_sourcings(org)}
    if not sourcings:
        return {}
    counts = {"milestones": 0, "ended": 0}
    contracts = ops.contract_list(client, list(sourcings))
    listed = [m.id for c in contracts for m in c.milestones if m.id]
    known = set(  # one query for the whole batch, not one per contract
        Milestone.objects.filter(upwork_id__in=listed, amount__isnull=False).values_list(
            "upwork_id", flat=True
        )
    )
    for contract in contracts:
        sourcing = sourcings.get(contract.id or "")
        if sourcing is None:
            continue
        if any(m.id and m.id not in known for m in contract.milestones):
            contract = ops.contract_details(client, sourcing.contract_id) or contract
        for key, value in _apply_contract(sourcing, contract).items():
            counts[key] += value
    return counts


def sync_contract(client, sourcing: Sourcing) -> dict[str, int]:
    """One contract in full (its milestones with their amounts)."""
    if not sourcing.contract_id:
        return {}
    contract = ops.contract_details(client, sourcing.contract_id)
    return _apply_contract(sourcing, contract) if contract is not None else {}


def _apply_contract(sourcing: Sourcing, contract) -> dict[str, int]:
    counts = {"milestones": 0, "ended": 0}
    with transaction.atomic():
        engagement = Engagement.objects.select_related("request__requester").get(
            pk=sourcing.engagement_id
        )
        for item in contract.milestones:
            counts["milestones"] += _upsert_milestone(engagement, item)
        if sourcing.contract_status != (contract.status or ""):  # most passes change nothing
            Sourcing.objects.filter(pk=sourcing.pk).update(contract_status=contract.status or "")
    status = (contract.status or "").upper()
    counts["ended"] = _follow_contract(sourcing.engagement_id, status, contract)
    return counts


CENT = Decimal("0.01")
HOURS_A_DAY_MAX = Decimal(24)


def _in_bounds(amount: Decimal) -> bool:
    """What Upwork answers is bounded like what people type: a larger amount is a fault."""
    return amount.is_finite() and abs(amount) <= limits.MONEY_MAX


def _money(value) -> Decimal | None:
    amount = value.amount if value is not None else None
    if amount and not _in_bounds(amount):
        log.warning("upwork sync: milestone amount %s out of bounds, kept unknown", amount)
        return None
    return amount.quantize(CENT) if amount else None


def _upsert_milestone(engagement: Engagement, item) -> int:
    if not item.id:
        return 0
    state = (item.state or "").upper()
    row, created = Milestone.objects.get_or_create(
        upwork_id=item.id,
        defaults={
            "engagement": engagement,
            "state": state,
            "sequence": int(item.sequence_id or 0) if str(item.sequence_id or "0").isdigit() else 0,
            "description": (item.description or "")[:500],
            "amount": _money(item.current_escrow_amount),
        },
    )
    changes = {}
    if not created and row.state != state:
        changes["state"] = state
    amount = _money(item.current_escrow_amount)
    if amount and row.amount != amount:
        changes["amount"] = amount
    event = 0
    # Submitted for the first time, or again after changes were asked for (it was active).
    again = not created and row.submitted_at is not None and row.state != "SUBMITTED"
    if state == "SUBMITTED" and (row.submitted_at is None or again):
        changes["submitted_at"] = clock.now()
        record(
            user=None,
            actor="upwork",
            action="marketplace.milestone_submitted",
            obj=engagement,
            after={
                "milestone": item.id,
                "description": item.description,
                **({"again": True} if again else {}),
            },
        )
        mail(
            engagement.request.requester,
            "milestone_submitted",
            {
                "reference": engagement.reference,
                "title": engagement.request.title,
                "engagement_id": engagement.pk,
                "milestone_id": row.pk,
                "milestone": item.description or item.id,
                **({"again": True} if again else {}),
            },
            key=f"{item.id}:{item.submission_count or clock.now().isoformat()}"
            if again
            else item.id,
        )
        event = 1
    if state in ("PAID", "APPROVED", "RELEASED") and row.approved_at is None:
        changes["approved_at"] = clock.now()
    if changes:
        Milestone.objects.filter(pk=row.pk).update(**changes)
    return event


def _follow_contract(engagement_id: int, status: str, contract) -> int:
    """Contract ACTIVE: engagement active once its start day came; ENDED: offboarding (unless
    it is there already: a contract ended from Gigbridge, see ``ending``, is not ended twice)."""
    engagement = Engagement.objects.get(pk=engagement_id)
    state = engagement.state
    if status == "ACTIVE" and state == Engagement.State.CONTRACTED:
        if engagement.contract_start and engagement.contract_start <= clock.today():
            transition_engagement(
                None, engagement, Engagement.State.ACTIVE, reason="contract started"
            )
        return 0
    if status != "ENDED" or state not in (Engagement.State.CONTRACTED, Engagement.State.ACTIVE):
        return 0
    reason = "contract ended on Upwork"
    if contract.closing_reason and (
        contract.closing_reason.reason or contract.closing_reason.api_ref
    ):
        reason += f" ({contract.closing_reason.reason or contract.closing_reason.api_ref})"
    with transaction.atomic():
        if state == Engagement.State.CONTRACTED:
            engagement = transition_engagement(
                None, engagement, Engagement.State.ACTIVE, reason="contract started"
            )
        transition_engagement(None, engagement, Engagement.State.OFFBOARDING, reason=reason)
    return 1


HOURS_BATCH = 100  # contracts per time-report read


def _hours_start(sourcing: Sourcing) -> dt.date:
    """Where a contract's hours are read from: a week before the latest day seen (Upwork
    revises hours), or, the first time, from when the offer went out (a contract starts when
    it is accepted, often before the planned start day)."""
    engagement = sourcing.engagement
    start = engagement.contract_start or engagement.request.start_date
    sent = (
        engagement.offers.filter(state=MarketplaceOffer.State.ACCEPTED, sent_at__isnull=False)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    if sent is not None:
        start = min(start, timezone.localdate(sent))  # the program's day, as contract_start
    mark = _cursor(sourcing.organization_id, f"hours:{sourcing.contract_id}")
    if mark:
        start = max(start, dt.date.fromisoformat(mark) - HOURS_OVERLAP)
    return start


def _marketplace_today() -> dt.date:
    """Where read windows end: the marketplace dates its rows by the UTC day, which west of UTC
    is already tomorrow in the program's zone; a window ending on the program's today would miss
    them until midnight there."""
    return max(clock.today(), clock.now().astimezone(dt.UTC).date())


def sync_hours(client, org: str) -> dict[str, int]:
    """Hours of every contract of the organization, up to HOURS_BATCH contracts a read
    (``contractIds``), each batch from the earliest day any of its contracts needs. The filter's
    organization is the client's tenant (``operations.acting_organization_id``)."""
    sourcings = _contracted_sourcings(org)
    today, new = _marketplace_today(), 0
    for first in range(0, len(sourcings), HOURS_BATCH):
        batch = {s.contract_id: s for s in sourcings[first : first + HOURS_BATCH]}
        start = min(_hours_start(s) for s in batch.values())
        latest: dict[str, str] = {}
        fetch = lambda after, ids=list(batch), start=start: ops.contract_time_report(  # noqa: E731
            client, ids, start, today, first=HOURS_BATCH, after=after
        )
        for page in ops.pages(fetch):
            with transaction.atomic():
                for item in page.items:
                    contract_id = (item.contract.id if item.contract else None) or ""
                    sourcing = batch.get(contract_id)
                    if sourcing is None:
                        continue
                    new += _upsert_hours(sourcing.engagement, contract_id, item)
                    day = (item.date_worked_on or "")[:10]
                    latest[contract_id] = max(latest.get(contract_id, ""), day)
                if not page.has_next_page or not page.items:
                    # Each contract's mark moves with the rows of the batch's last page.
                    for contract_id, day in latest.items():
                        mark = _cursor(org, f"hours:{contract_id}")
                        if day > mark:
                            _advance(org, f"hours:{contract_id}", day)
    return {"hours": new}


def _upsert_hours(engagement: Engagement, contract_id: str, item) -> int:
    try:
        day = dt.date.fromisoformat((item.date_worked_on or "")[:10])
        hours = Decimal(str(item.total_hours_worked or 0)).quantize(Decimal("0.01"))
        amount = Decimal(str(item.total_charges or 0)).quantize(Decimal("0.01"))
    except (ValueError, InvalidOperation):
        log.warning("upwork sync: ContractTimeReport row without a usable date or hours skipped")
        return 0
    if not (0 <= hours <= HOURS_A_DAY_MAX and _in_bounds(amount)):
        log.warning(
            "upwork sync: ContractTimeReport row of %s hours, %s skipped (out of bounds)",
            hours,
            amount,
        )
        return 0
    row, created = TimeEntry.objects.get_or_create(
        contract_id=contract_id,
        date=day,
        defaults={
            "engagement": engagement,
            "hours": hours,
            "amount": amount,
            "memo": (item.memo or "")[:500],
            "synced_at": clock.now(),
        },
    )
    if created:
        record(
            user=None,
            actor="upwork",
            action="marketplace.hours_logged",
            obj=engagement,
            after={"date": day.isoformat(), "hours": str(hours), "amount": str(amount)},
        )
        return 1
    if (row.hours, row.amount) != (hours, amount):
        # save(), not .update(): the revision is seen by what listens (analytics' hours).
        row.hours, row.amount, row.synced_at = hours, amount, clock.now()
        row.save(update_fields=["hours", "amount", "synced_at"])
    return 0


# --- payments ------------------------------------------------------------------------------


def transaction_amounts(rows) -> list[Decimal | None]:
    """Each row's amount: the change of the running balance from the row before it in the
    answer (the first row's balance counts from zero, as the window's balance starts there)."""
    amounts, previous = [], Decimal("0")
    for row in rows:
        balance = row.running_chargeable_balance.amount if row.running_chargeable_balance else None
        if balance is None:
            amounts.append(None)
            continue
        amounts.append(balance - previous)
        previous = balance
    return amounts


def sync_payments(client, org: str) -> int:
    contracts = dict(
        Sourcing.objects.filter(organization_id=org, engagement__state__in=PAYING)
        .exclude(contract_id="")
        .values_list("contract_id", "engagement_id")
    )
    if not contracts:
        return 0
    stream = "payments"
    mark = _cursor(org, stream)
    today = _marketplace_today()
    start = (
        (dt.date.fromisoformat(mark) - PAYMENTS_OVERLAP) if mark else today - dt.timedelta(days=366)
    )
    rows = ops.transaction_history(client, start, today)
    amounts = transaction_amounts(rows)
    _, policy = program.current()
    for row, amount in zip(rows, amounts, strict=True):
        try:  # before any write: a payment must never count as nothing
            policy.to_program_currency(Decimal(0), _currency(row))
        except UnknownCurrency as error:
            raise PermanentError(
                f"payment {row.record_id} cannot count against budgets: {error}"
            ) from error
        if amount is not None and not (
            _in_bounds(amount) and _in_bounds(policy.to_program_currency(amount, _currency(row)))
        ):
            raise PermanentError(
                f"payment {row.record_id} of {amount} {_currency(row)} is beyond "
                f"{limits.MONEY_MAX:,}: the marketplace's answer is wrong; nothing was counted"
            )
    new, latest = 0, mark
    with transaction.atomic():
        touched = set()
        for row, amount in zip(rows, amounts, strict=True):
            day = (row.transaction_creation_date or "")[:10]
            latest = max(latest or "", day)
            engagement_id = contracts.get(row.related_assignment or "")
            if engagement_id is None or not row.record_id or amount is None:
                continue
            paid_at = _when(row.transaction_creation_date)
            _, created = Payment.objects.get_or_create(
                transaction_id=row.record_id,
                defaults={
                    "engagement_id": engagement_id,
                    "contract_id": row.related_assignment,
                    "kind": (row.type or "")[:40],
                    "description": (row.description or "")[:500],
                    "amount": amount.quantize(CENT),
                    "currency": _currency(row),
                    "amount_program": policy.to_program_currency(amount, _currency(row)),
                    "paid_at": paid_at,
                },
            )
            if created:
                new += 1
                touched.add(engagement_id)
                engagement = Engagement.objects.get(pk=engagement_id)
                record(
                    user=None,
                    actor="upwork",
                    action="marketplace.payment",
                    obj=engagement,
                    after={"transaction": row.record_id, "amount": str(amount), "type": row.type},
                )
        for engagement in Engagement.objects.filter(pk__in=touched).select_related(
            "request__cost_center", "request__requester"
        ):
            marketplace.check_spend_alerts(engagement)
        if latest:
            _advance(org, stream, latest)
    return new


def _when(value: str | None) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    except ValueError:
        return clock.now()
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _currency(row) -> str:
    balance = row.running_chargeable_balance
    return ((balance.currency if balance else None) or "USD")[:3]
