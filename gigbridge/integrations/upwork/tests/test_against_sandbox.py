"""The real connector against the real sandbox marketplace: every wrapper, a whole hiring story.

The product's own path is used: ``settings.UPWORK`` points at the sandbox (client credentials,
the sandbox CA as the bundle), ``connection.client(org)`` builds the ``UpworkClient`` with a
``ConnectionTokens`` that fetches its token from the sandbox's token endpoint. Every request the
client sends is hooked: its document must pass ``conformance.problems``, and the story must have
sent every document in ``operations.DOCUMENTS`` and called every wrapper in ``operations``.

Time passes by moving the sandbox clock (``/_sandbox/clock``), never by sleeping; the client's
back-off ``sleep`` moves the sandbox clock too, so a throttled bucket refills deterministically.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
from decimal import Decimal

import pytest

from gigbridge.integrations.upwork import conformance, connection
from gigbridge.integrations.upwork import operations as ops
from gigbridge.integrations.upwork.auth import ConnectionTokens
from gigbridge.integrations.upwork.client import UpworkClient
from gigbridge.integrations.upwork.errors import GraphQLErrors, MissingScope, RetryableUpworkError
from gigbridge.sandbox.tests.conftest import (  # noqa: F401 - fixtures, and the pinned clock
    _pinned_sandbox_clock,
    http,
    info,
    sandbox,
)
from gigbridge.sandbox.tests.upwork_support import RESET, advance, set_dials, tool, upwork

pytestmark = pytest.mark.django_db

HOUR = 3600
DAY = 24 * HOUR
GRACE = "1300000000000000007"  # declines every offer
KENJI = "1300000000000000002"  # answers offers after six hours
ANA = "1300000000000000001"
LUCIA_KEY = "~01a1b2c3d4e5f60005"
USD = "USD"


def usd(amount: str) -> dict:
    return ops.money(amount, USD)


def team_of(freelancer_id: str) -> str:
    """A simulated freelancer's own organization (the sandbox's seed: user id + 10**17)."""
    return str(int(freelancer_id) + 100_000_000_000_000_000)


def wrappers() -> set[str]:
    """The public functions of ``operations`` that take the client first: its wrappers."""
    found = set()
    for name, value in vars(ops).items():
        if name.startswith("_") or not inspect.isfunction(value):
            continue
        if value.__module__ != ops.__name__:
            continue
        parameters = list(inspect.signature(value).parameters)
        if parameters and parameters[0] == "client":
            found.add(name)
    return found


class Recorder:
    """What the client sent (operation names) and which wrappers were called."""

    def __init__(self):
        self.operations: list[str] = []
        self.problems: list[tuple[str, list]] = []
        self.called: set[str] = set()
        self.expected: set[str] = set()

    def request_hook(self, request) -> None:
        if request.method != "POST" or not request.url.path.endswith("/graphql"):
            return
        body = json.loads(request.content)
        self.operations.append(body["operationName"])
        found = conformance.problems(body["query"])
        if found:
            self.problems.append((body["operationName"], found))


@pytest.fixture
def recorder(monkeypatch):
    """Counts every wrapper call (by patching ``operations``' names, as the story calls them)."""
    seen = Recorder()
    seen.expected = wrappers()
    for name in seen.expected:
        original = getattr(ops, name)

        def counted(*args, __name=name, __original=original, **kwargs):
            seen.called.add(__name)
            return __original(*args, **kwargs)

        monkeypatch.setattr(ops, name, counted)
    return seen


def sandbox_cfg(info, app: dict | None = None, **changes) -> dict:  # noqa: F811
    details = upwork(info)
    app = app or details
    return {
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "grant": "client_credentials",
        "authorize_url": details["authorize_url"],
        "token_url": details["token_url"],
        "graphql_url": details["graphql_url"],
        "redirect_uri": "http://127.0.0.1:8000/integrations/upwork/callback",
        "organization_id": details["tenant_ids"][0],
        "ca_bundle": info["ca_cert"],
        "rate": 1000.0,  # the sandbox's throttle is what these tests look at
        "burst": 1000.0,
        "refresh_margin": 300,
        "timeout": 10,
        **changes,
    }


@pytest.fixture
def upwork_client(settings, info, http, recorder):  # noqa: F811
    """The product's client for the Engineering organization, requests hooked, sleep = clock."""
    settings.UPWORK = sandbox_cfg(info)
    connection.reset()
    client = connection.client()
    client.http.event_hooks = {"request": [recorder.request_hook], "response": []}
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the back-off waits on the sandbox clock
        slept.append(seconds)
        advance(http, info, seconds)

    client.sleep = sleep
    client.slept = slept
    yield client
    connection.reset()


@pytest.fixture
def unthrottled(http, info):  # noqa: F811
    set_dials(http, info, throttle=None)
    yield
    set_dials(http, info, **RESET)


def sandbox_now(http, info) -> dt.datetime:  # noqa: F811
    now = tool(http, info, "tick", {})["now"]
    return dt.datetime.fromisoformat(now.replace("Z", "+00:00"))


def all_proposals(client: UpworkClient, job_id: str) -> list[ops.Proposal]:
    """Every proposal, two a page (so the cursor is followed)."""
    items, after = [], None
    while True:
        page = ops.list_client_proposals(client, job_id, first=2, after=after)
        items += page.items
        if not page.has_next_page:
            return items
        after = page.end_cursor


def contract_of(client: UpworkClient, offer_id: str, since: str) -> ops.Contract:
    """The contract an accepted offer became, as the poller finds it: the offer's room names it;
    the room is among the rooms active since the offer (``room_list``) and its new stories are
    among ``stories_since``'s."""
    room = ops.offer_room(client, offer_id)
    assert room is not None and offer_id in room.offer_ids and room.contract_id
    active = [r.id for r in ops.items(lambda after: ops.room_list(client, since, after=after))]
    assert room.id in active
    assert any(s.room and s.room.id == room.id for s in ops.stories_since(client, since))
    contract = ops.contract_details(client, room.contract_id)
    assert contract.offer_id == offer_id
    return contract


def test_hiring_story_calls_every_wrapper(upwork_client, recorder, http, info, unthrottled):  # noqa: F811
    client = upwork_client
    engineering = upwork(info)["tenant_ids"][0]

    # Connection check: who we act for.
    assert ops.organization(client).id == engineering
    assert engineering in {i.organization_id for i in ops.company_selector(client)}

    # Post a job (the connector's names: Money, HOURLY, dates, categoryId), then change it.
    today = sandbox_now(http, info).date()
    posted = ops.create_job_posting(
        client,
        title="Payments API hardening",
        description="Harden our payments API before the audit.",
        contract_type="HOURLY",
        skills=["Python", "Django"],
        hourly_budget_min=usd("40"),
        hourly_budget_max=usd("120.50"),
        start_date=today + dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=60),
        visibility="PUBLIC",
        category_id="531770282580668418",
    )
    job_id = posted.id
    assert job_id and posted.version
    changed = ops.update_job_posting(client, job_id, title="Payments API hardening (Q1)")
    assert int(changed.version) > int(posted.version)

    # Proposals arrive over the next hours.
    assert ops.list_client_proposals(client, job_id).items == []
    advance(http, info, 9 * HOUR)
    proposals = all_proposals(client, job_id)
    assert 3 <= len(proposals) <= 5
    assert all(p.freelancer and p.freelancer.ciphertext for p in proposals)
    chosen = next(p for p in proposals if p.freelancer.id not in (GRACE, KENJI))
    other = next(p for p in proposals if p.id != chosen.id)

    # The list leaves out where the freelancer works from; the single proposal has it.
    detail = ops.get_proposal(client, chosen.id)
    assert detail.id == chosen.id and detail.user.location.country_name
    with pytest.raises(GraphQLErrors, match="not found"):
        ops.get_proposal(client, "no-such-proposal")

    shortlisted = ops.shortlist_proposal(client, chosen.id, job_posting_id=job_id)
    assert shortlisted.proposal.state == "SHORTLISTED"
    declined = ops.decline_proposal(
        client,
        other.id,
        job_posting_id=job_id,
        reason_id="146",
        message="We went with someone else.",
    )
    assert declined.proposal.state == "DECLINED"

    # Direct sourcing: invite someone who has not proposed; they apply within the hour.
    invitee = LUCIA_KEY
    if invitee in {p.freelancer.ciphertext for p in proposals}:
        invitee = next(
            f["profileKey"]
            for f in tool(http, info, "freelancers")["value"]
            if f["persona"]["proposes"]
            and f["profileKey"] not in {p.freelancer.ciphertext for p in proposals}
        )
    invitee_id = ops.freelancer_id(client, invitee)
    assert invitee_id and invitee_id != invitee
    assert ops.invite_freelancer(client, job_id, invitee_id, "Would you apply?")
    advance(http, info, HOUR)
    assert invitee in {p.freelancer.ciphertext for p in all_proposals(client, job_id)}

    # Offers: hourly to the shortlisted proposal (its user and organization are the vendor),
    # fixed price with milestones to Ana (directly).
    start = sandbox_now(http, info)
    proposal = ops.get_proposal(client, chosen.id)
    hourly = ops.create_offer(
        client,
        title="Payments API hardening",
        description="Hourly, up to 20 hours a week.",
        vendor_user_id=proposal.freelancer.id,
        vendor_team_id=proposal.organization.id,
        contract_type="HOURLY",
        contract_start=start,
        contract_end=start + dt.timedelta(days=60),
        hourly_rate=usd("80"),
        weekly_hours_limit=20,
        manual_time_allowed=True,
        job_posting_id=job_id,
        client_proposal_id=chosen.id,
    )
    assert hourly.state == "OPEN" and hourly.vendor_user_id == chosen.freelancer.id
    assert hourly.hourly_rate_terms.rate.amount == Decimal("80.00")
    assert hourly.hourly_rate_terms.weekly_hours_limit == 20
    fixed = ops.create_offer(
        client,
        title="Checkout redesign",
        description="Two milestones.",
        vendor_user_id=ANA,
        vendor_team_id=team_of(ANA),
        contract_type="FIXED_PRICE",
        contract_start=start.date(),
        milestones=[
            {"description": "Wireframes", "amount": usd("300"), "due": today + dt.timedelta(7)},
            {"description": "Build", "amount": usd("700.00"), "due": start + dt.timedelta(30)},
        ],
    )
    planned = fixed.all_milestones
    assert [m.description for m in planned] == ["Wireframes", "Build"]
    assert planned[1].due_date_time.startswith((start.date() + dt.timedelta(30)).isoformat())
    since = fixed.created_date_time

    # An offer sent by mistake is withdrawn before it is answered.
    mistaken = ops.create_offer(
        client,
        title="Wrong person",
        description="Sent by mistake.",
        vendor_user_id=GRACE,
        vendor_team_id=team_of(GRACE),
        contract_type="HOURLY",
        contract_start=start,
        hourly_rate=usd("55"),
    )
    assert ops.withdraw_offer(client, mistaken.id, message="Sent by mistake.") is True
    assert ops.get_offer(client, mistaken.id).state == "WITHDRAWN"

    # The freelancers answer; each contract is found through the rooms' stories.
    advance(http, info, 3 * HOUR)
    assert ops.get_offer(client, hourly.id).state == "ACCEPTED"
    accepted = ops.get_offer(client, fixed.id)
    assert accepted.state == "ACCEPTED" and accepted.freelancer.user.id == ANA
    hourly_contract = contract_of(client, hourly.id, since)
    fixed_contract = contract_of(client, fixed.id, since)
    assert hourly_contract.status == "ACTIVE" and hourly_contract.hourly
    assert hourly_contract.freelancer.id == chosen.freelancer.id
    assert fixed_contract.kind == "FIXED" and not fixed_contract.hourly

    # Hours: the freelancer logs each weekday at 18:00 UTC and each day is billed.
    advance(http, info, 5 * DAY)
    later = sandbox_now(http, info).date()
    report = ops.contract_time_report(client, hourly_contract.id, today, later)
    assert report.items and report.total_count == len(report.items)
    assert sum(e.total_hours_worked for e in report.items) <= 20 * 2
    for entry in report.items:
        assert entry.contract.id == hourly_contract.id
        assert entry.total_charges == pytest.approx(entry.total_hours_worked * 80)
    one_day = report.items[0].date_worked_on
    assert ops.contract_time_report(client, hourly_contract.id, one_day, one_day).total_count == 1

    # Milestones: add one, fund it, the freelancer submits it (tools), the client approves it.
    fixed_contract = ops.contract_details(client, fixed_contract.id)
    # A poller reads many contracts at once; ids it cannot see are left out.
    listed = ops.contract_list(client, [hourly_contract.id, fixed_contract.id, "1"])
    assert {c.id for c in listed} == {hourly_contract.id, fixed_contract.id}
    assert {c.status for c in listed} == {"ACTIVE"}
    first, second = fixed_contract.milestones
    assert first.state == "SUBMITTED"  # funded at the start, submitted two days later
    extra = ops.create_milestone(
        client,
        fixed_contract.id,
        description="Polish",
        amount=usd("150"),
        due=later + dt.timedelta(days=10),
        instructions="Accessibility fixes.",
    )
    assert extra.state == "NOT_FUNDED" and str(extra.sequence_id) == "3"
    assert extra.due_date_time.startswith((later + dt.timedelta(days=10)).isoformat())
    funded = ops.activate_milestone(client, extra.id, message="Funded.")
    assert funded.state == "ACTIVE" and funded.current_escrow_amount.amount == Decimal("150.00")
    tool(http, info, "act", {"action": "submit_milestone", "milestoneId": extra.id,
                             "message": "Polished."})  # fmt: skip
    # Changes asked for: the submission (named in the offer's milestones) goes back; the
    # milestone is active until the freelancer submits again.
    offer = ops.get_offer(client, fixed_contract.offer_id)
    submitted = next(m for m in offer.all_milestones if m.id == extra.id)
    assert submitted.state == "SUBMITTED" and submitted.latest_submission_id
    assert ops.reject_milestone_submission(
        client, submitted.latest_submission_id, note="Contrast is still too low."
    )
    back = next(m for m in ops.contract_details(client, fixed_contract.id).milestones
                if m.id == extra.id)  # fmt: skip
    assert back.state == "ACTIVE"
    tool(http, info, "act", {"action": "submit_milestone", "milestoneId": extra.id,
                             "message": "Polished again."})  # fmt: skip
    again = next(m for m in ops.get_offer(client, fixed_contract.offer_id).all_milestones
                 if m.id == extra.id)  # fmt: skip
    assert again.submission_count == 2 and len(again.submission_events) == 2
    assert again.latest_submission_id != submitted.latest_submission_id
    paid_all = ops.approve_milestone(
        client, first.id, amount=usd("300"), message="Great wireframes."
    )
    paid_part = ops.approve_milestone(client, extra.id, amount=usd("100.00"), message="Partial.")
    assert paid_all.state == "PAID" and paid_all.pay_comments == "Great wireframes."
    assert paid_part.state == "PAID"

    # Payments: the hours billed and the two milestones paid.
    ace = ops.organization(client).company.accounting_entity
    assert ace and ace != engineering
    rows = ops.transaction_history(
        client, today, sandbox_now(http, info).date(), accounting_entity_ids=[ace]
    )
    assert ops.transaction_history(client, today, sandbox_now(http, info).date()) == rows
    by_contract = {}
    for row in rows:
        by_contract.setdefault(row.related_assignment, []).append(row)
    assert [r.type for r in by_contract[hourly_contract.id]] == ["Hourly"] * len(report.items)
    fixed_rows = by_contract[fixed_contract.id]
    assert [r.type for r in fixed_rows] == ["Fixed Price", "Fixed Price"]
    assert "$100.00" in fixed_rows[1].description_ui

    # Messages: post into the room, the freelancer replies within the hour.
    room = ops.contract_room(client, hourly_contract.id)
    assert room.contract_id == hourly_contract.id
    sent = ops.send_room_message(client, room.id, "Kick-off call tomorrow at 10?")
    assert sent.message == "Kick-off call tomorrow at 10?"
    advance(http, info, 2 * HOUR)
    new = ops.room_stories(client, room.id, since=sent.created_date_time)
    assert [s.id for s in new.items][0] == sent.id  # rangeStart is inclusive
    replies = [s for s in new.items if s.id != sent.id]
    assert len(replies) == 1 and replies[0].user.id == chosen.freelancer.id
    everything = ops.room_stories(client, room.id, first=2)
    assert everything.total_count >= 3 and len(everything.items) == 2
    # The client's own story can be changed and removed (a Teams reply edited, deleted).
    ops.update_room_story(client, room.id, sent.id, "Kick-off call tomorrow at 11?")
    texts = {s.id: s.message for s in ops.room_stories(client, room.id, first=50).items}
    assert texts[sent.id] == "Kick-off call tomorrow at 11?"
    ops.remove_room_story(client, room.id, sent.id)
    assert sent.id not in {s.id for s in ops.room_stories(client, room.id, first=50).items}

    # The end.
    assert ops.end_contract(
        client,
        hourly_contract.id,
        reason_ref="API_REAS_JOB_COMPLETED_SUCCESSFULLY",
        feedback="Thanks!",
    )
    ended = ops.contract_details(client, hourly_contract.id)
    assert ended.status == "ENDED" and ended.closing_reason.api_ref == "CLIENT"
    assert ops.contract_room(client, hourly_contract.id).read_only is True
    # The job is filled: its posting takes no more proposals.
    assert ops.close_job_posting(client, job_id).id == job_id

    # Everything went through the documented operations, and every wrapper was used.
    assert recorder.problems == []
    assert set(ops.DOCUMENTS) <= set(recorder.operations)
    assert recorder.expected and recorder.expected - recorder.called == set()
    assert second.state == "NOT_FUNDED"


def test_queries_are_retried_after_the_sandbox_throttles(upwork_client, http, info):  # noqa: F811
    client = upwork_client
    set_dials(http, info, throttle={"rate": 0.5, "burst": 3})
    try:
        for _ in range(3):
            assert ops.organization(client).id  # the burst
        assert ops.organization(client).id  # 429, Retry-After, the clock moves, 200
        assert client.slept and all(1 <= s <= 2 for s in client.slept)
        before = len(client.slept)
        with pytest.raises(RetryableUpworkError) as raised:  # a mutation is never re-sent
            ops.send_room_message(client, "1650000000000000001", "hello")
        assert raised.value.status == 429 and len(client.slept) == before
    finally:
        set_dials(http, info, **RESET)


def test_read_only_key_raises_missing_scope(info, http, recorder, unthrottled):  # noqa: F811
    cfg = sandbox_cfg(info, upwork(info)["read_only_client"], organization_id="")
    tokens = ConnectionTokens("", cfg=cfg)
    with UpworkClient(cfg["graphql_url"], tokens, verify=cfg["ca_bundle"]) as client:
        client.http.event_hooks = {"request": [recorder.request_hook], "response": []}
        assert ops.organization(client).name  # common entities: allowed
        with pytest.raises(MissingScope) as raised:
            ops.create_job_posting(
                client, title="Nope", description="Read-only key.", contract_type="FIXED_PRICE",
                budget=usd("500"),
            )  # fmt: skip
        assert "Job Postings - Read and Write Access" in str(raised.value)
        with pytest.raises(MissingScope):
            ops.contract_time_report(client, "30000001", "2026-01-01", "2026-01-31")
    assert recorder.problems == []
