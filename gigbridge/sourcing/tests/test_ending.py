"""Ending a contract from Gigbridge: who may, with which reasons and feedback, from which states,
once; a direct hire sends nothing, a marketplace contract is ended on Upwork by a job that
retries what can be retried and shows what cannot. Upwork is replaced by typed answers here;
tests/scenarios/test_ending.py runs the same against the sandbox."""

import re

import pytest

from gigbridge import clock, limits
from gigbridge.audit.describe import describe_all
from gigbridge.audit.models import AuditEvent
from gigbridge.domainerrors import InvalidTransition, NotAllowed, RuleViolation
from gigbridge.engagements import actions
from gigbridge.engagements.models import Engagement
from gigbridge.engagements.tests.test_approvals import approved_engagement
from gigbridge.integrations.upwork import connection
from gigbridge.integrations.upwork import operations as ops
from gigbridge.integrations.upwork.errors import PermanentUpworkError, RetryableUpworkError
from gigbridge.jobs.actions import run
from gigbridge.jobs.models import OutboxJob
from gigbridge.sourcing import ending, sync
from gigbridge.sourcing.models import ContractEnd, Sourcing
from gigbridge.sourcing.tests.test_marketplace import _contracted

pytestmark = pytest.mark.django_db


def direct_hire(people, state="contracted") -> Engagement:
    """A direct hire of freya (NDA and MSA signed), moved by the program admin to ``state``."""
    engagement = approved_engagement(
        people,
        sourcing="direct",
        freelancer_email="freya@freelancers.example",
        freelancer_country="PT",
    )
    for step in ("contracted", "active"):
        engagement = actions.transition_engagement(people["ada"], engagement, step)
        if step == state:
            break
    return engagement


def end_jobs():
    return OutboxJob.objects.filter(kind=ending.END_JOB)


class FakeUpwork:
    """The two operations the job calls, answering as told."""

    def __init__(self, monkeypatch, status="ACTIVE", fail=None):
        self.status, self.fail, self.ended = status, list(fail or []), []
        monkeypatch.setattr(connection, "client", lambda org=None: None)
        monkeypatch.setattr(ops, "contract_details", self.details)
        monkeypatch.setattr(ops, "end_contract", self.end)

    def details(self, client, contract_id, on=None):
        return ops.Contract.model_validate({"id": contract_id, "status": self.status})

    def end(self, client, contract_id, *, reason_ref, feedback=None):
        if self.fail:
            raise self.fail.pop(0)
        self.ended.append((contract_id, reason_ref, feedback))
        self.status = "ENDED"
        return True


# --- reasons --------------------------------------------------------------------------------


def test_every_reason_has_a_label_and_an_upwork_reason_ref():
    assert {"work_completed", "budget_exhausted", "not_a_good_fit", "project_cancelled"} <= set(
        ending.REASONS
    )
    assert "other" in ending.REASONS
    for code, reason in ending.REASONS.items():
        assert re.fullmatch(r"[a-z_]+", code)
        assert reason.label and reason.label == reason.label.lower()
        assert reason.reason_ref.startswith("API_REAS_")
    assert ending.choices()[0] == ("work_completed", "work completed")


def test_an_unknown_reason_and_too_long_feedback_are_refused_naming_the_field(people):
    engagement = direct_hire(people)
    with pytest.raises(RuleViolation) as refused:
        ending.end_contract(people["rita"], engagement, "bored")
    assert [p.field for p in refused.value.problems] == ["reason"]
    assert "work_completed" in str(refused.value)
    with pytest.raises(RuleViolation) as refused:
        ending.end_contract(
            people["rita"], engagement, "work_completed", "x" * (limits.COMMENT_MAX + 1)
        )
    assert [p.field for p in refused.value.problems] == ["feedback"]
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.CONTRACTED
    assert not ContractEnd.objects.exists()


def test_the_api_answers_422_naming_the_field(people, api):
    engagement = direct_hire(people)
    url = f"/api/v1/engagements/{engagement.pk}/end"
    bad = api("rita").post(url, {"reason": "bored"}, content_type="application/json")
    assert bad.status_code == 422
    assert bad["content-type"].startswith("application/problem+json")
    assert "reason" in str(bad.json()["errors"])
    long = api("rita").post(
        url,
        {"reason": "other", "feedback": "x" * (limits.COMMENT_MAX + 1)},
        content_type="application/json",
    )
    assert long.status_code == 422 and "feedback" in str(long.json()["errors"])
    assert Engagement.objects.get(pk=engagement.pk).state == Engagement.State.CONTRACTED


# --- who may, and when ----------------------------------------------------------------------


def test_only_the_hiring_manager_or_a_program_admin_ends_it(people, api):
    engagement = direct_hire(people)
    with pytest.raises(NotAllowed):
        ending.end_contract(people["max"], engagement, "work_completed")  # sees it, approved it
    url = f"/api/v1/engagements/{engagement.pk}/end"
    assert (
        api("max").post(url, {"reason": "other"}, content_type="application/json").status_code
        == 403
    )
    assert (
        api("paula").post(url, {"reason": "other"}, content_type="application/json").status_code
        == 404
    )
    assert not ContractEnd.objects.exists()
    # A program admin may, as the hiring manager may.
    ended = ending.end_contract(people["ada"], engagement, "project_cancelled")
    assert ended.ended_by == people["ada"]


def test_sourcing_ended_and_closed_engagements_are_refused_and_a_second_end_too(people):
    sourcing = approved_engagement(people)
    with pytest.raises(InvalidTransition, match="is sourcing: only a contracted or active"):
        ending.end_contract(people["rita"], sourcing, "other")
    engagement = direct_hire(people, state="active")
    ending.end_contract(people["rita"], engagement, "work_completed")
    with pytest.raises(InvalidTransition, match="already ended on .* by Rita"):
        ending.end_contract(people["ada"], engagement, "other")
    assert ContractEnd.objects.count() == 1
    assert AuditEvent.objects.filter(action="engagement.contract_ended").count() == 1


# --- the effect -----------------------------------------------------------------------------


def test_a_direct_hire_ends_at_once_without_any_marketplace_call(people, frozen_now):
    engagement = direct_hire(people, state="active")
    planned_end = engagement.contract_end
    frozen_now(days=10)
    assert clock.today() < planned_end
    reconciles = OutboxJob.objects.filter(kind="access.reconcile").count()

    ended = ending.end_contract(
        people["rita"], engagement, "budget_exhausted", "  Thanks for the work!  "
    )

    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.OFFBOARDING
    assert engagement.contract_end == clock.today()  # the real end: access follows it
    assert OutboxJob.objects.filter(kind="access.reconcile").count() > reconciles
    assert (ended.reason, ended.feedback, ended.ended_on) == (
        "budget_exhausted",
        "Thanks for the work!",
        clock.today(),
    )
    assert ended.marketplace_state == ContractEnd.Marketplace.NONE
    assert not end_jobs().exists()
    assert not Sourcing.objects.filter(engagement=engagement).exists()
    event = AuditEvent.objects.get(action="engagement.contract_ended")
    assert event.actor_user_id == people["rita"].pk
    assert event.after["reason_code"] == "budget_exhausted"
    assert event.after["feedback"] == "Thanks for the work!"
    (described,) = describe_all([event])
    name = people["rita"].get_full_name()
    assert (
        described.text == f"{name} ended the contract of {engagement.reference} (budget exhausted)"
    )
    offboarding = AuditEvent.objects.get(action="engagement.offboarding")
    assert offboarding.after["reason"] == f"contract ended by {name} (budget exhausted)"


def test_a_contracted_engagement_passes_through_active_to_offboarding(people):
    engagement = direct_hire(people, state="contracted")
    ending.end_contract(people["rita"], engagement, "not_a_good_fit")
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.OFFBOARDING
    moves = list(
        AuditEvent.objects.filter(action__startswith="engagement.", object_id=str(engagement.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert moves[-3:] == [
        "engagement.active",
        "engagement.offboarding",
        "engagement.contract_ended",
    ]


def test_a_marketplace_contract_is_ended_on_upwork_by_the_job_once(people, monkeypatch):
    engagement = _contracted(people)
    upwork = FakeUpwork(monkeypatch)
    ended = ending.end_contract(people["rita"], engagement, "work_completed", "Great work")
    assert ended.marketplace_state == ContractEnd.Marketplace.QUEUED
    job = end_jobs().get()
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.OFFBOARDING  # at once, before Upwork hears

    assert run(job.pk).status == "done"
    assert upwork.ended == [("k1", "API_REAS_JOB_COMPLETED_SUCCESSFULLY", "Great work")]
    ended.refresh_from_db()
    assert ended.marketplace_state == ContractEnd.Marketplace.ENDED
    assert Sourcing.objects.get(engagement=engagement).contract_status == "ENDED"
    assert ending.run_end_contract(engagement.pk) == "done before"
    assert len(upwork.ended) == 1
    (described,) = describe_all([AuditEvent.objects.get(action="marketplace.contract_ended")])
    assert described.text == f"Upwork ended the contract k1 of {engagement.reference}"

    # The sync that sees the contract ended later moves nothing (and does not even read it).
    transitions = AuditEvent.objects.filter(action__startswith="engagement.").count()
    contract = ops.Contract.model_validate({"id": "k1", "status": "ENDED"})
    assert sync._follow_contract(engagement.pk, "ENDED", contract) == 0
    assert "k1" not in {s.contract_id for s in sync._contracted_sourcings("")}
    assert AuditEvent.objects.filter(action__startswith="engagement.").count() == transitions
    assert Engagement.objects.get(pk=engagement.pk).state == Engagement.State.OFFBOARDING


def test_a_contract_already_ended_on_upwork_is_not_ended_again(people, monkeypatch):
    engagement = _contracted(people)
    upwork = FakeUpwork(monkeypatch, status="ENDED")  # the freelancer ended it meanwhile
    ending.end_contract(people["rita"], engagement, "other")
    assert ending.run_end_contract(engagement.pk) == "ended before"
    assert upwork.ended == []
    assert ContractEnd.objects.get().marketplace_state == ContractEnd.Marketplace.ENDED


def test_upwork_errors_retry_or_show_on_the_page_and_the_engagement_stays_offboarding(
    people, monkeypatch, client
):
    engagement = _contracted(people)
    refusal = PermanentUpworkError(
        "The contract has an open dispute", operation="EndContractByClient", status=400
    )
    upwork = FakeUpwork(
        monkeypatch,
        fail=[RetryableUpworkError("busy", operation="EndContractByClient", status=503), refusal],
    )
    ending.end_contract(people["rita"], engagement, "work_completed")
    job = end_jobs().get()

    assert run(job.pk).status == "retry"
    assert ContractEnd.objects.get().marketplace_state == ContractEnd.Marketplace.QUEUED
    OutboxJob.objects.filter(pk=job.pk).update(next_attempt_at=clock.now())
    assert run(job.pk).status == "dead"
    ended = ContractEnd.objects.get()
    assert ended.marketplace_state == ContractEnd.Marketplace.FAILED
    assert "open dispute" in ended.marketplace_error
    assert upwork.ended == []
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.OFFBOARDING
    assert AuditEvent.objects.filter(action="marketplace.contract_end_failed").exists()

    client.force_login(people["rita"])
    page = client.get(f"/engagements/{engagement.pk}/").content.decode()
    section = page[page.index('id="end-contract"') :]
    section = section[: section.index("</section>")]
    assert "Upwork could not end the contract" in section and "open dispute" in section
    assert "<form" not in section  # ended: no second form


# --- the page -------------------------------------------------------------------------------


def test_the_form_asks_for_confirmation_and_is_shown_only_to_who_may_end(people, client):
    engagement = direct_hire(people, state="active")
    url = f"/engagements/{engagement.pk}/"
    client.force_login(people["rita"])
    page = client.get(url).content.decode()
    section = page[page.index('<section id="end-contract"') :]
    section = section[: section.index("</section>")]
    assert 'aria-labelledby="end-contract-heading"' in section
    assert '<h2 id="end-contract-heading">End the contract</h2>' in section
    assert f'action="/engagements/{engagement.pk}/end/"' in section
    checkbox = re.search(r'<input type="checkbox" name="confirm"[^>]*>', section).group(0)
    assert "checked" not in checkbox
    assert 'name="feedback"' in section and ">End contract</button>" in section
    options = re.findall(r'<option value="([^"]*)"', section)
    assert options == ["", *ending.REASONS]  # no reason is chosen for them
    assert "here and on Upwork" not in section  # a direct hire

    # Not ticked: refused with the reason, nothing changes.
    response = client.post(url + "end/", {"reason": "work_completed"}, follow=True)
    assert "cannot be undone: tick “I am sure”" in response.content.decode()
    assert Engagement.objects.get(pk=engagement.pk).state == Engagement.State.ACTIVE
    # No reason: refused, naming it.
    response = client.post(url + "end/", {"confirm": "1"}, follow=True)
    assert "Not ended: reason: choose one of" in response.content.decode()
    # The manager sees the page but not the form, and may not post it.
    client.force_login(people["max"])
    assert 'id="end-contract"' not in client.get(url).content.decode()
    assert client.post(url + "end/", {"reason": "other", "confirm": "1"}).status_code == 403

    client.force_login(people["rita"])
    response = client.post(
        url + "end/",
        {"reason": "work_completed", "feedback": "Thank you", "confirm": "1"},
        follow=True,
    )
    body = response.content.decode()
    assert "has ended; offboarding started." in body and "Upwork is being told" not in body
    assert Engagement.objects.get(pk=engagement.pk).state == Engagement.State.OFFBOARDING
    section = body[body.index('<section id="end-contract"') :]
    assert "Contract ended" in section and "work completed" in section
    assert clock.today().strftime("%Y") in section


def test_no_form_before_the_contract_or_after_it_ended_elsewhere(people, client):
    sourcing = approved_engagement(people)
    client.force_login(people["rita"])
    assert 'id="end-contract"' not in client.get(f"/engagements/{sourcing.pk}/").content.decode()
    engagement = direct_hire(people, state="active")
    actions.transition_engagement(people["ada"], engagement, "offboarding", "by hand")
    page = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert 'id="end-contract"' not in page


def test_a_direct_hire_page_has_no_marketplace_sections(people, client):
    direct = direct_hire(people)
    client.force_login(people["rita"])
    page = client.get(f"/engagements/{direct.pk}/").content.decode()
    for absent in ('id="proposals"', 'id="offers"', 'id="milestones-heading"', "Job posting"):
        assert absent not in page, absent
    assert "Budget and spend" in page and 'id="budget-used"' in page
    marketplace = approved_engagement(people)
    page = client.get(f"/engagements/{marketplace.pk}/").content.decode()
    for present in ('id="proposals"', 'id="offers"', 'id="milestones-heading"', "Job posting"):
        assert present in page, present
    assert "Marketplace and spend" in page


def test_the_api_ends_and_answers_202_with_the_marketplace_view(people, api, monkeypatch):
    engagement = _contracted(people)
    FakeUpwork(monkeypatch)
    response = api("ada").post(
        f"/api/v1/engagements/{engagement.pk}/end",
        {"reason": "project_cancelled"},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["engagement_id"] == engagement.pk and body["contract_id"] == "k1"
    assert set(body) == set(
        api("ada").get(f"/api/v1/engagements/{engagement.pk}/marketplace").json()
    )
    assert Engagement.objects.get(pk=engagement.pk).state == Engagement.State.OFFBOARDING
    assert end_jobs().count() == 1
    again = api("ada").post(
        f"/api/v1/engagements/{engagement.pk}/end",
        {"reason": "project_cancelled"},
        content_type="application/json",
    )
    assert again.status_code == 409 and "already ended" in again.json()["detail"]


def test_when_the_outbox_gives_up_the_page_says_so(people, monkeypatch, client, settings):
    settings.GIGBRIDGE_JOB_MAX_ATTEMPTS = 1
    engagement = _contracted(people)
    FakeUpwork(
        monkeypatch,
        fail=[
            RetryableUpworkError("Service Unavailable", operation="EndContractByClient", status=503)
        ],
    )
    ending.end_contract(people["rita"], engagement, "work_completed")
    client.force_login(people["rita"])
    page = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert "Upwork is being told." in page
    assert run(end_jobs().get().pk).status == "dead"
    page = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert "Upwork could not be told" in page and "Service Unavailable" in page
    assert ContractEnd.objects.get().marketplace_state == ContractEnd.Marketplace.QUEUED


def test_an_admin_cannot_end_a_running_upwork_contract_by_hand(people):
    """The generic state change would cut access while the contract and its payments go on:
    it is refused and names the way that tells Upwork."""
    engagement = _contracted(people)
    with pytest.raises(InvalidTransition, match="End the contract"):
        actions.transition_engagement(people["ada"], engagement, "cancelled", "by hand")
    engagement.refresh_from_db()
    assert engagement.state == "contracted"
