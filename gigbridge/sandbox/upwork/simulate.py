"""The simulated freelancers: what they do, and when, on the sandbox clock.

Nothing runs in the background. What becomes due is done lazily: ``run_due()`` runs before every
GraphQL request and on ``POST /upwork/_sandbox/tick``, and performs, in time order, everything
due by the sandbox clock's now, stamped with the moment it was due (so a poller's watermark
sees it in the right place). Choices come from ``random.Random`` seeded with the objects'
keys, so the same steps give the same marketplace.

What happens (``persona`` fields in ``defaults``):
- a job posting gets 3 to 5 proposals from freelancers whose persona ``proposes``, spread over
  the following 1 to 8 hours; an invitation brings that freelancer's proposal within an hour;
- an offer is answered after ``answer_hours``: declined by a persona that ``declines``,
  otherwise accepted, which starts the contract, opens its room and says hello there;
- on hourly contracts the freelancer logs ``hours`` (a random amount in the range, within the
  weekly limit) for each weekday at 18:00 UTC, and each logged day is billed at once (a
  transaction of type "Hourly");
- a funded (active) milestone is submitted ``submit_days`` later, with a message in the room;
  approving it pays it (a "Fixed Price" transaction); when the client asks for changes it is
  active again and submitted anew ``submit_days`` later;
- a client's message in a contract room is answered after ``reply_hours``.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from ..m365files import clock
from .models import (
    Contract,
    Freelancer,
    Invitation,
    JobPosting,
    Milestone,
    MilestoneSubmission,
    Offer,
    Payment,
    Proposal,
    Room,
    Scheduled,
    Story,
    TimeEntry,
    to_ms,
)

SEED = "gigbridge-upwork"
LOG_TIME = dt.time(18, 0, tzinfo=dt.UTC)
MAX_DAYS_A_PASS = 400  # a contract catches up at most this many days per pass
CENTS = Decimal("0.01")


def rng(*parts) -> random.Random:
    return random.Random(":".join(map(str, (SEED, *parts))))


def schedule(action: str, subject: int, due: dt.datetime, **data) -> None:
    Scheduled.objects.create(action=action, subject=subject, due=due, data=data)


# -- reactions to the client's actions -----------------------------------------------------------


def on_job_created(job: JobPosting) -> None:
    draw = rng("job", job.pk)
    willing = [f for f in Freelancer.objects.all() if f.persona.get("proposes", True)]
    chosen = draw.sample(willing, min(len(willing), draw.randint(3, 5)))
    delays = sorted(draw.uniform(1, 8) for _ in chosen)
    for person, hours in zip(chosen, delays, strict=True):
        schedule("propose", job.pk, job.created + dt.timedelta(hours=hours), freelancer=person.id)


def on_invitation(invitation: Invitation) -> None:
    if invitation.freelancer.persona.get("proposes", True):
        due = invitation.created + dt.timedelta(minutes=rng("inv", invitation.pk).randint(10, 60))
        schedule("propose", invitation.job_id, due, freelancer=invitation.freelancer_id)


def on_offer(offer: Offer) -> None:
    hours = offer.freelancer.persona.get("answer_hours", 2)
    schedule("answer_offer", offer.pk, offer.created + dt.timedelta(hours=hours))


def on_milestone_funded(milestone: Milestone, when: dt.datetime) -> None:
    days = milestone.contract.freelancer.persona.get("submit_days", 2)
    schedule("submit", milestone.pk, when + dt.timedelta(days=days))


def on_client_story(story: Story) -> None:
    contract = story.room.contract
    if contract is not None and contract.status == "ACTIVE":
        hours = contract.freelancer.persona.get("reply_hours", 1)
        schedule("reply", story.pk, story.created + dt.timedelta(hours=hours))


# -- what a freelancer does (also the tools endpoints' actions) ----------------------------------


def propose(person: Freelancer, job: JobPosting, when: dt.datetime, letter: str = "") -> Proposal:
    existing = Proposal.objects.filter(job=job, freelancer=person).first()
    if existing is not None:
        return existing
    rate = person.hourly_rate
    if job.hourly_max and rate > job.hourly_max:
        rate = job.hourly_max
    letter = letter or (
        f"Hello, I am {person.first_name}, {person.title.lower()}. I have worked with "
        f"{', '.join(person.skills[:2])} for years and would be glad to help with "
        f'"{job.title}".'
    )
    proposal = Proposal.objects.create(
        job=job, freelancer=person, cover_letter=letter, charge_rate=rate,
        created=when, modified=when,
    )  # fmt: skip
    return proposal


def answer_offer(offer: Offer, accept: bool, when: dt.datetime) -> Contract | None:
    if offer.state != "OPEN":
        return Contract.objects.filter(offer=offer).first()
    offer.state = "ACCEPTED" if accept else "DECLINED"
    offer.answered_at = when
    offer.touch(when, "state", "answered_at")
    if offer.proposal_id:
        Proposal.objects.filter(pk=offer.proposal_id).update(
            status="HIRED" if accept else "DECLINED", modified=to_ms(when)
        )
    if not accept:
        return None
    return start_contract(offer, when)


def start_contract(offer: Offer, when: dt.datetime) -> Contract:
    hourly = offer.kind == "HOURLY"
    contract = Contract.objects.create(
        offer=offer, organization_id=offer.organization_id, freelancer=offer.freelancer,
        title=offer.title, kind=offer.kind, hourly_rate=offer.hourly_rate,
        weekly_limit=offer.weekly_limit, started=when, created=when, modified=when,
        next_log_at=first_log_at(when) if hourly else None,
    )  # fmt: skip
    room = Room.objects.create(
        organization_id=offer.organization_id, contract=contract,
        name=f"{offer.title} ({offer.freelancer.name})", created=when, modified=when,
    )  # fmt: skip
    for index, planned in enumerate(offer.milestones):
        milestone = Milestone.objects.create(
            contract=contract, sequence=index + 1,
            description=planned.get("description") or f"Milestone {index + 1}",
            amount=Decimal(str(planned.get("amount", "0"))), due=_date(planned.get("dueDate")),
            state="ACTIVE" if index == 0 else "NOT_FUNDED", created=when, modified=when,
        )  # fmt: skip
        if index == 0:
            on_milestone_funded(milestone, when)
    message(room, offer.freelancer, f"Thanks for the offer! Happy to start on {offer.title}.", when)
    return contract


def message(room: Room, person: Freelancer, text: str, when: dt.datetime) -> Story:
    story = Story.objects.create(
        room=room, freelancer=person, message=text, created=when, modified=when
    )
    room.touch(when)
    return story


def log_hours(
    contract: Contract, date: dt.date, hours: Decimal, when: dt.datetime, memo: str = ""
) -> TimeEntry | None:
    """Log (or replace) a day's hours and bill them; None when the contract is not hourly."""
    if contract.kind != "HOURLY" or hours <= 0:
        return None
    hours = Decimal(hours).quantize(CENTS)
    charges = (hours * contract.hourly_rate).quantize(CENTS, ROUND_HALF_UP)
    entry, created = TimeEntry.objects.update_or_create(
        contract=contract, date=date,
        defaults={"hours": hours, "charges": charges, "memo": memo or "Work on the contract",
                  "modified": when},
        create_defaults={"hours": hours, "charges": charges, "created": when, "modified": when,
                         "memo": memo or "Work on the contract"},
    )  # fmt: skip
    Payment.objects.create(
        organization_id=contract.organization_id, contract=contract, kind="Hourly",
        description=f"Invoice for {date.isoformat()}: {hours} hrs @ ${contract.hourly_rate}/hr "
        f"- {contract.title}", amount=charges, created=when, modified=when,
    )  # fmt: skip
    contract.touch(when)
    return entry


def submit_milestone(milestone: Milestone, when: dt.datetime, text: str = "") -> Milestone:
    if milestone.state not in {"ACTIVE", "SUBMITTED"}:
        return milestone
    if milestone.state == "ACTIVE":
        milestone.submission_count += 1
    milestone.state = "SUBMITTED"
    milestone.last_submission_at = when
    milestone.submission_message = text or f"Submitted: {milestone.description}"
    milestone.touch(when)
    if milestone.submissions.filter(sequence=milestone.submission_count).exists():
        return milestone  # submitting again what is already submitted adds no submission
    MilestoneSubmission.objects.create(
        milestone=milestone, sequence=milestone.submission_count, amount=milestone.amount,
        message=milestone.submission_message, created=when, modified=when,
    )  # fmt: skip
    contract = milestone.contract
    room = Room.objects.filter(contract=contract).first()
    if room is not None:
        message(room, contract.freelancer, milestone.submission_message, when)
    return milestone


def on_changes_requested(milestone: Milestone, when: dt.datetime) -> None:
    """The client asked for changes: the freelancer works on and submits again, as long after
    as after funding (``submit_days``)."""
    on_milestone_funded(milestone, when)


def end_contract(contract: Contract, by: str, when: dt.datetime, reason: str = "") -> Contract:
    if contract.status != "ENDED":
        contract.status, contract.ended, contract.ended_by = "ENDED", when, by
        contract.closing_reason = reason or "Job completed successfully"
        contract.next_log_at = None
        contract.touch(when)
    return contract


# -- the pump ------------------------------------------------------------------------------------


def run_due(now: dt.datetime | None = None) -> int:
    """Do everything due by ``now`` (the sandbox clock); returns how many things were done."""
    now = now or clock.now()
    done = 0
    while True:
        batch = list(Scheduled.objects.filter(done_at__isnull=True, due__lte=now)[:200])
        if not batch:
            break
        for item in batch:
            with transaction.atomic():
                # Claimed under the write lock: another worker may have done it already.
                if Scheduled.objects.filter(pk=item.pk, done_at__isnull=True).update(done_at=now):
                    _perform(item)
                    done += 1
    for contract_id in Contract.objects.filter(
        status="ACTIVE", kind="HOURLY", next_log_at__lte=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            done += _catch_up_hours(contract_id, now)
    return done


def _perform(item: Scheduled) -> None:
    when = item.due
    if item.action == "propose":
        job = JobPosting.objects.filter(pk=item.subject).first()
        person = Freelancer.objects.filter(id=item.data.get("freelancer")).first()
        if job is not None and person is not None and job.status == "OPEN":
            propose(person, job, when)
    elif item.action == "answer_offer":
        offer = Offer.objects.select_related("freelancer").filter(pk=item.subject).first()
        if offer is not None and offer.state == "OPEN":
            answer_offer(offer, not offer.freelancer.persona.get("declines", False), when)
    elif item.action == "submit":
        milestone = Milestone.objects.filter(pk=item.subject, state="ACTIVE").first()
        if milestone is not None and milestone.contract.status == "ACTIVE":
            submit_milestone(milestone, when)
    elif item.action == "reply":
        story = Story.objects.select_related("room__contract__freelancer").filter(pk=item.subject)
        story = story.first()
        contract = story.room.contract if story else None
        if contract is not None and contract.status == "ACTIVE":
            text = rng("reply", story.pk).choice(
                ["Got it, thanks!", "Sounds good, I'll take care of it.",
                 "Thanks, I'll get back to you with an update soon."]
            )  # fmt: skip
            message(story.room, contract.freelancer, text, when)


def _catch_up_hours(contract_id: int, now: dt.datetime) -> int:
    contract = Contract.objects.select_related("freelancer").get(pk=contract_id)
    low, high = contract.freelancer.persona.get("hours", [4, 8])
    logged = 0
    for _ in range(MAX_DAYS_A_PASS):
        moment = contract.next_log_at
        if moment is None or moment > now or contract.status != "ACTIVE":
            break
        date = moment.date()
        hours = Decimal(rng("hours", contract.pk, date).uniform(low, high)).quantize(Decimal("0.5"))
        if contract.weekly_limit is not None:
            hours = min(hours, Decimal(contract.weekly_limit) - _week_hours(contract, date))
        if hours > 0 and log_hours(contract, date, hours, moment):
            logged += 1
        contract.refresh_from_db()
        contract.next_log_at = _next_weekday_at(date + dt.timedelta(days=1))
        contract.save(update_fields=["next_log_at"])
    return logged


def _week_hours(contract: Contract, date: dt.date) -> Decimal:
    monday = date - dt.timedelta(days=date.weekday())
    entries = TimeEntry.objects.filter(contract=contract, date__gte=monday, date__lt=date)
    return sum((e.hours for e in entries), Decimal(0))


def _next_weekday_at(date: dt.date) -> dt.datetime:
    while date.weekday() >= 5:
        date += dt.timedelta(days=1)
    return dt.datetime.combine(date, LOG_TIME)


def first_log_at(started: dt.datetime) -> dt.datetime:
    """The first day logged: the start day if the contract started before noon, else the next."""
    start = started.astimezone(dt.UTC)
    date = start.date() if start.time() < dt.time(12) else start.date() + dt.timedelta(days=1)
    return _next_weekday_at(date)


def _date(value) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
