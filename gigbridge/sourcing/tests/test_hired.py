"""On hire, the job's other proposals are declined (politely, each recorded on its row) and the
posting closed, once, whatever fails on the way. Upwork is replaced by typed answers here;
tests/scenarios/test_ending.py runs it against the sandbox."""

import pytest

from gigbridge import clock
from gigbridge.audit.describe import describe_all
from gigbridge.audit.models import AuditEvent
from gigbridge.engagements.models import Engagement
from gigbridge.integrations.upwork import connection
from gigbridge.integrations.upwork import operations as ops
from gigbridge.integrations.upwork.errors import PermanentUpworkError, RetryableUpworkError
from gigbridge.jobs.actions import run
from gigbridge.jobs.models import OutboxJob
from gigbridge.sourcing import actions as marketplace
from gigbridge.sourcing import hired, sync
from gigbridge.sourcing.models import MarketplaceOffer, Proposal, Sourcing
from gigbridge.sourcing.tests.test_marketplace import (
    approved_engagement,
    proposal,
    signed,
)

pytestmark = pytest.mark.django_db


class FakeMarket:
    """A job's proposals on Upwork, two to a page; declines answer as told."""

    def __init__(self, monkeypatch, statuses: dict, fail: dict | None = None):
        self.statuses, self.fail = dict(statuses), {k: list(v) for k, v in (fail or {}).items()}
        self.declines, self.messages, self.closed = [], set(), []
        monkeypatch.setattr(connection, "client", lambda org=None: None)
        monkeypatch.setattr(ops, "list_client_proposals", self.page)
        monkeypatch.setattr(ops, "decline_proposal", self.decline)
        monkeypatch.setattr(ops, "close_job_posting", self.close)

    def page(self, client, job_posting_id, *, first=50, after=None):
        ids = list(self.statuses)
        start = int(after or 0)
        items = [
            ops.Proposal.model_validate(
                {
                    "id": pid,
                    "user": {"id": "u-" + pid, "name": pid.upper(), "email": f"{pid}@f.example"},
                    "status": {"status": self.statuses[pid]},
                }
            )
            for pid in ids[start : start + 2]
        ]
        return ops.Page(items=items, end_cursor=str(start + 2), has_next_page=start + 2 < len(ids))

    def decline(self, client, proposal_id, *, job_posting_id=None, reason_id=None, message=None):
        assert job_posting_id == "job1"
        if self.fail.get(proposal_id):
            raise self.fail[proposal_id].pop(0)
        self.declines.append(proposal_id)
        self.messages.add(message)
        self.statuses[proposal_id] = "DECLINED"
        return ops.ProposalAction.model_validate(
            {"proposal": {"id": proposal_id, "status": {"status": "DECLINED"}}}
        )

    def close(self, client, job_posting_id):
        self.closed.append(job_posting_id)
        return ops.JobPostingResult(id=job_posting_id)


def hired_engagement(people) -> Engagement:
    """p1 hired through the sync; p2..p4 stored from the sync, p5 withdrawn."""
    engagement = approved_engagement(people)
    Sourcing.objects.filter(engagement=engagement).update(
        job_posting_id="job1", posting_state=Sourcing.Posting.POSTED
    )
    chosen = proposal(engagement, "p1")
    for pid in ("p2", "p3", "p4", "p5"):
        proposal(engagement, pid, email=f"{pid}@f.example")
    signed(chosen.freelancer_email)
    offer = marketplace.pick(people["rita"], chosen)
    MarketplaceOffer.objects.filter(pk=offer.pk).update(
        state="open", upwork_id="o1", sent_at=clock.now()
    )
    offer.refresh_from_db()
    assert sync._contracted(offer, "k1") == 1
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.CONTRACTED
    return engagement


def test_on_hire_the_others_are_declined_and_the_posting_closed_once(people, monkeypatch):
    engagement = hired_engagement(people)
    job = OutboxJob.objects.get(kind=hired.DECLINE_OTHERS_JOB)
    market = FakeMarket(
        monkeypatch,
        # p6 came after the last sync: Gigbridge has no row for it yet.
        {
            "p1": "HIRED",
            "p2": "PENDING",
            "p3": "SHORTLISTED",
            "p4": "PENDING",
            "p5": "WITHDRAWN",
            "p6": "PENDING",
        },  # fmt: skip
        fail={
            "p3": [RetryableUpworkError("busy", operation="DeclineClientProposal", status=503)],
            "p4": [
                PermanentUpworkError(
                    "Proposal p4 is archived", operation="DeclineClientProposal", status=400
                )
            ]
            * 2,
        },
    )

    # First run: p3 is busy (retried later), p4 refused; the others go on.
    assert run(job.pk).status == "retry"
    assert market.declines == ["p2", "p6"] and market.closed == []
    assert Proposal.objects.get(upwork_id="p2").state == "DECLINED"
    assert not AuditEvent.objects.filter(action="marketplace.others_declined").exists()

    # Second run: only what is still open is tried; then the posting closes.
    OutboxJob.objects.filter(pk=job.pk).update(next_attempt_at=clock.now())
    assert run(job.pk).status == "done"
    assert market.declines == ["p2", "p6", "p3"] and market.closed == ["job1"]
    assert len(market.messages) == 1
    (message,) = market.messages
    assert engagement.request.title in message and "Thank you" in message
    states = dict(Proposal.objects.values_list("upwork_id", "state"))
    assert states == {
        "p1": "HIRED",
        "p2": "DECLINED",
        "p3": "DECLINED",
        "p4": "",  # refused: as it was
        "p5": "",
        "p6": "DECLINED",  # stored now, so the page lists it
    }
    sourcing = Sourcing.objects.get(engagement=engagement)
    assert sourcing.posting_state == Sourcing.Posting.CLOSED
    assert "p4" in sourcing.last_error and "archived" in sourcing.last_error
    event = AuditEvent.objects.get(action="marketplace.others_declined")
    assert event.after["declined"] == 3 and event.after["not_declined"] == ["p4"]
    (described,) = describe_all([event])
    assert described.text.startswith(
        f"Declined 3 other proposals for {engagement.reference} and closed the job posting; "
        "not everything went: proposal p4"
    )

    # Again (a crash after the summary, a second job): nothing more happens.
    assert hired.run_decline_others(engagement.pk) == {"done": "before"}
    assert len(market.declines) == 3 and len(market.closed) == 1
    assert AuditEvent.objects.filter(action="marketplace.others_declined").count() == 1


def test_the_page_shows_declined_proposals(people, monkeypatch, client):
    engagement = hired_engagement(people)
    FakeMarket(monkeypatch, {"p1": "HIRED", "p2": "PENDING"})
    assert hired.run_decline_others(engagement.pk)["declined"] == 1
    client.force_login(people["rita"])
    page = client.get(f"/engagements/{engagement.pk}/").content.decode()
    table = page[
        page.index('id="proposals"') : page.index("</table>", page.index('id="proposals"'))
    ]
    assert "declined" in table
    assert "job1 (closed)" in page
    assert "Declined 1 other proposal for" in page


def test_a_posting_upwork_will_not_close_is_said_and_not_tried_forever(people, monkeypatch):
    engagement = hired_engagement(people)
    market = FakeMarket(monkeypatch, {"p1": "HIRED", "p2": "PENDING"})

    def refuse(client, job_posting_id):
        raise PermanentUpworkError("Job is filled", operation="UpdateJobPosting", status=400)

    monkeypatch.setattr(ops, "close_job_posting", refuse)
    result = hired.run_decline_others(engagement.pk)
    assert result == {"declined": 1, "refused": 0, "closed": False}
    assert market.declines == ["p2"]
    sourcing = Sourcing.objects.get(engagement=engagement)
    assert sourcing.posting_state == Sourcing.Posting.POSTED
    assert "stays open" in sourcing.last_error
    (described,) = describe_all([AuditEvent.objects.get(action="marketplace.others_declined")])
    assert "closed the job posting" not in described.text and "stays open" in described.text


def test_no_posting_no_job(people):
    """A contract without a job posting (nothing to decline) queues nothing."""
    engagement = approved_engagement(people)
    chosen = proposal(engagement, "p1")
    signed(chosen.freelancer_email)
    offer = marketplace.pick(people["rita"], chosen)
    MarketplaceOffer.objects.filter(pk=offer.pk).update(state="open", upwork_id="o1")
    offer.refresh_from_db()
    sync._contracted(offer, "k1")
    assert not OutboxJob.objects.filter(kind=hired.DECLINE_OTHERS_JOB).exists()


def test_a_contract_compliance_blocks_queues_no_declines(people, monkeypatch):
    engagement = approved_engagement(people)
    Sourcing.objects.filter(engagement=engagement).update(job_posting_id="job1")
    chosen = proposal(engagement, "p1")
    signed(chosen.freelancer_email)
    offer = marketplace.pick(people["rita"], chosen)
    MarketplaceOffer.objects.filter(pk=offer.pk).update(state="open", upwork_id="o1")
    offer.refresh_from_db()
    chosen_person = engagement.__class__.objects.get(pk=engagement.pk).freelancer
    chosen_person.agreements.all().delete()  # no longer signed: contracting is refused
    assert sync._contracted(offer, "k1") == 0
    assert not OutboxJob.objects.filter(kind=hired.DECLINE_OTHERS_JOB).exists()
