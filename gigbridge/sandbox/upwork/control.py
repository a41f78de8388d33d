"""``/upwork/_sandbox/…``: tools around the marketplace (Basic auth with the outside-tools app's
client id and secret, the credentials ``gigbridge sandbox info`` prints at the top level).

- ``GET|POST /upwork/_sandbox/control``: the dials, ``{"throttle": {"rate": 10.0, "burst": 10},
  "faults": {"error_rate": 0.0, "latency_ms": 0, "seed": null, "retry_after": 1}}``; POST any
  part (``"throttle": null`` turns the limit off). Setting throttle refills the buckets; setting
  faults restarts the seeded sequence.
- ``POST /upwork/_sandbox/tick``: do what the freelancers have due now (also done before every
  GraphQL request); answers ``{"now", "performed"}``.
- ``GET /upwork/_sandbox/freelancers``: the simulated freelancers and their personas.
- ``POST /upwork/_sandbox/act``: a freelancer acts now (the sandbox clock's now), one of
  ``{"action": "propose", "jobPostingId", "freelancerId" | "profileKey", "coverLetter"?}``,
  ``{"action": "accept_offer" | "decline_offer", "offerId"}``,
  ``{"action": "message", "contractId" | "roomId", "message"}`` (by the contract's freelancer),
  ``{"action": "log_hours", "contractId", "hours", "date"? (today), "memo"?}``,
  ``{"action": "submit_milestone", "milestoneId", "message"?}``,
  ``{"action": "end_contract", "contractId", "reason"?}``. Answers what was made or changed.
- ``POST /upwork/_sandbox/bulk-contracts`` ``{"count": n (≤ 5000), "organizationId"?,
  "kind"? ("HOURLY")}``: n active contracts (with offers and rooms) at once, for benchmarks;
  answers ``{"contractIds": […]}``.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..graph import dials as graph_dials
from ..graph.auth import tools_only
from ..m365files import clock
from . import defaults, gate, simulate
from .inputs import parse_date
from .models import (
    ClientUser,
    Contract,
    Dials,
    Freelancer,
    JobPosting,
    Milestone,
    Offer,
    Organization,
    Room,
    ThrottleBucket,
    to_ms,
)

MAX_BULK = 5000


class ToolError(ValueError):
    pass


def _body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ToolError("the body must be JSON") from None
    if not isinstance(body, dict):
        raise ToolError("the body must be a JSON object")
    return body


def current() -> dict:
    row = gate.dials()
    return {
        "throttle": {"rate": row.rate, "burst": row.burst if row.rate is not None else None},
        "faults": {"error_rate": row.error_rate, "latency_ms": row.latency_ms,
                   "seed": row.fault_seed, "retry_after": row.retry_after},
    }  # fmt: skip


@transaction.atomic
def update(changes: dict) -> dict:
    unknown = set(changes) - {"throttle", "faults"}
    if unknown:
        raise graph_dials.DialError(f"unknown section(s): {', '.join(sorted(unknown))}")
    before = current()
    merged = {**graph_dials.DEFAULTS, "throttle": before["throttle"], "faults": before["faults"]}
    after = graph_dials.merge(merged, changes)  # the Graph dials' rules and messages
    row, _ = Dials.objects.get_or_create(pk=1)
    row.rate = after["throttle"]["rate"]
    row.burst = after["throttle"]["burst"] or row.burst
    faults = after["faults"]
    row.error_rate, row.latency_ms = faults["error_rate"], faults["latency_ms"]
    row.fault_seed, row.retry_after = faults["seed"], faults["retry_after"]
    if "faults" in changes:
        row.fault_counter = 0
    row.save()
    if "throttle" in changes:
        ThrottleBucket.objects.all().delete()
    return current()


@csrf_exempt  # Basic-authenticated tools endpoint: no cookies
@require_http_methods(["GET", "POST"])
def control(request: HttpRequest) -> HttpResponse:
    refused = tools_only(request)
    if refused:
        return refused
    if request.method == "POST":
        try:
            return JsonResponse(update(_body(request)))
        except (ToolError, graph_dials.DialError) as exc:
            return JsonResponse({"error": "invalid_settings", "message": str(exc)}, status=400)
    return JsonResponse(current())


@csrf_exempt  # Basic-authenticated tools endpoint: no cookies
@require_POST
def tick(request: HttpRequest) -> HttpResponse:
    refused = tools_only(request)
    if refused:
        return refused
    performed = simulate.run_due()
    return JsonResponse({**clock.describe(), "performed": performed})


@require_GET
def freelancers(request: HttpRequest) -> HttpResponse:
    refused = tools_only(request)
    if refused:
        return refused
    rows = [
        {"id": f.id, "profileKey": f.profile_key, "name": f.name, "country": f.country,
         "title": f.title, "skills": f.skills, "hourlyRate": str(f.hourly_rate),
         "organizationId": f.organization_id, "persona": f.persona}
        for f in Freelancer.objects.all()
    ]  # fmt: skip
    return JsonResponse({"value": rows})


def _get(model, value, what: str):
    found = model.by_uid(value)
    if found is None:
        raise ToolError(f"no {what} {value!r}")
    return found


def _act(body: dict) -> dict:
    simulate.run_due()
    now = clock.now()
    action = body.get("action")
    if action == "propose":
        job = _get(JobPosting, body.get("jobPostingId"), "job posting")
        key = body.get("freelancerId") or body.get("profileKey")
        person = (
            Freelancer.objects.filter(id=key).first()
            or Freelancer.objects.filter(profile_key=key).first()
        )
        if person is None:
            raise ToolError(f"no freelancer {key!r}")
        proposal = simulate.propose(person, job, now, body.get("coverLetter") or "")
        return {"proposalId": proposal.uid, "status": proposal.status}
    if action in {"accept_offer", "decline_offer"}:
        offer = _get(Offer, body.get("offerId"), "offer")
        contract = simulate.answer_offer(offer, action == "accept_offer", now)
        offer.refresh_from_db()
        return {"offerId": offer.uid, "state": offer.state,
                "contractId": contract.uid if contract else None}  # fmt: skip
    if action == "message":
        if body.get("roomId"):
            room = _get(Room, body["roomId"], "room")
        else:
            room = Room.objects.filter(
                contract=_get(Contract, body.get("contractId"), "contract")
            ).first()
        if room is None or room.contract is None:
            raise ToolError("messages go to a contract's room")
        text = body.get("message")
        if not isinstance(text, str) or not text:
            raise ToolError("message must be a non-empty string")
        story = simulate.message(room, room.contract.freelancer, text, now)
        return {"storyId": story.uid, "roomId": room.uid}
    if action == "log_hours":
        contract = _get(Contract, body.get("contractId"), "contract")
        try:
            hours = Decimal(str(body.get("hours")))
            date = parse_date(body["date"]) if body.get("date") else now.date()
        except (InvalidOperation, ValueError) as exc:
            raise ToolError(f"hours and date: {exc}") from None
        entry = simulate.log_hours(contract, date, hours, now, body.get("memo") or "")
        if entry is None:
            raise ToolError("hours go to an hourly contract, and must be above 0")
        return {"contractId": contract.uid, "date": entry.date.isoformat(),
                "hours": str(entry.hours), "charges": str(entry.charges)}  # fmt: skip
    if action == "submit_milestone":
        milestone = _get(Milestone, body.get("milestoneId"), "milestone")
        simulate.submit_milestone(milestone, now, body.get("message") or "")
        return {"milestoneId": milestone.uid, "state": milestone.state}
    if action == "end_contract":
        contract = _get(Contract, body.get("contractId"), "contract")
        simulate.end_contract(contract, "FREELANCER", now, body.get("reason") or "")
        return {"contractId": contract.uid, "status": contract.status}
    raise ToolError(
        "action must be one of propose, accept_offer, decline_offer, message, log_hours, "
        "submit_milestone, end_contract"
    )


@csrf_exempt  # Basic-authenticated tools endpoint: no cookies
@require_POST
def act(request: HttpRequest) -> HttpResponse:
    refused = tools_only(request)
    if refused:
        return refused
    try:
        with transaction.atomic():
            return JsonResponse(_act(_body(request)))
    except ToolError as exc:
        return JsonResponse({"error": "invalid_request", "message": str(exc)}, status=400)


@csrf_exempt  # Basic-authenticated tools endpoint: no cookies
@require_POST
def bulk_contracts(request: HttpRequest) -> HttpResponse:
    refused = tools_only(request)
    if refused:
        return refused
    try:
        body = _body(request)
        count = body.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BULK:
            raise ToolError(f"count must be a whole number from 1 to {MAX_BULK}")
        org = Organization.objects.filter(
            id=body.get("organizationId") or defaults.ENGINEERING
        ).first()
        if org is None:
            raise ToolError("no such organization")
        kind = (body.get("kind") or "HOURLY").upper()
        if kind not in {"HOURLY", "FIXED"}:
            raise ToolError("kind must be HOURLY or FIXED")
        with transaction.atomic():
            ids = _bulk(org, count, kind)
    except ToolError as exc:
        return JsonResponse({"error": "invalid_request", "message": str(exc)}, status=400)
    return JsonResponse({"contractIds": ids})


def _bulk(org: Organization, count: int, kind: str) -> list[str]:
    now = to_ms(clock.now())  # bulk_create skips Stamped.save
    people = list(Freelancer.objects.all())
    owner = ClientUser.objects.filter(membership__organization=org).first()
    hourly = kind == "HOURLY"
    offers = Offer.objects.bulk_create(
        Offer(organization=org, created_by=owner, freelancer=people[i % len(people)],
              title=f"Benchmark contract {i + 1}", kind=kind, state="ACCEPTED",
              hourly_rate=people[i % len(people)].hourly_rate if hourly else None,
              weekly_limit=40 if hourly else None, fixed_amount=None if hourly else 1000,
              answered_at=now, created=now, modified=now)
        for i in range(count)
    )  # fmt: skip
    contracts = Contract.objects.bulk_create(
        Contract(offer=o, organization=org, freelancer=o.freelancer, title=o.title, kind=kind,
                 hourly_rate=o.hourly_rate, weekly_limit=o.weekly_limit, started=now,
                 created=now, modified=now,
                 next_log_at=simulate.first_log_at(now) if hourly else None)
        for o in offers
    )  # fmt: skip
    Room.objects.bulk_create(
        Room(organization=org, contract=c, name=f"{c.title} ({c.freelancer.name})",
             created=now, modified=now)
        for c in contracts
    )  # fmt: skip
    return [c.uid for c in contracts]
