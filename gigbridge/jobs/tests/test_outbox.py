"""Outbox jobs: queued after commit, retried with backoff, given up on, swept when lost."""

import datetime as dt

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from gigbridge.jobs import actions, registry
from gigbridge.jobs.errors import PermanentError, RetryableError
from gigbridge.jobs.models import OutboxJob

calls: list[dict] = []
behaviour: dict = {"raise": None}


@registry.handler("test.record")
def _record(payload):
    if behaviour["raise"] is not None:
        raise behaviour["raise"]
    calls.append(payload)


@pytest.fixture(autouse=True)
def _reset():
    calls.clear()
    behaviour["raise"] = None


@pytest.mark.django_db(transaction=True)
def test_the_queue_hears_of_a_job_only_after_commit():
    with transaction.atomic():
        job = actions.enqueue("test.record", {"n": 1}, key="k1")
        assert DBTaskResult.objects.count() == 0
    assert DBTaskResult.objects.count() == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.enqueue("test.record", {"n": 2}, key="k2")
        raise RuntimeError("rolled back")
    assert not OutboxJob.objects.filter(idempotency_key="k2").exists()
    assert DBTaskResult.objects.count() == 1
    assert actions.run(job.pk).status == "done"
    assert calls == [{"n": 1}]


@pytest.mark.django_db
def test_same_key_is_the_same_job():
    first = actions.enqueue("test.record", {"n": 1}, key="same")
    again = actions.enqueue("test.record", {"n": 1}, key="same")
    assert first.pk == again.pk and OutboxJob.objects.count() == 1


@pytest.mark.django_db
def test_unknown_kind_fails_at_the_call_site():
    with pytest.raises(LookupError, match="no handler"):
        actions.enqueue("nope", {}, key="x")


@pytest.mark.django_db
def test_a_done_job_is_not_run_again():
    job = actions.enqueue("test.record", {"n": 1}, key="once")
    assert actions.run(job.pk).status == "done"
    assert actions.run(job.pk).status == "skipped"
    assert len(calls) == 1


@pytest.mark.django_db
def test_retryable_failure_waits_then_the_sweeper_hands_it_over(frozen_now):
    job = actions.enqueue("test.record", {"n": 1}, key="r")
    behaviour["raise"] = RetryableError("429 from upstream", retry_after=30)
    assert actions.run(job.pk).status == "retry"
    job.refresh_from_db()
    assert job.state == "pending" and job.attempts == 1
    assert job.next_attempt_at == frozen_now.now() + dt.timedelta(seconds=30)
    assert actions.run(job.pk).status == "skipped"  # not due yet
    assert actions.sweep() == 0
    frozen_now(seconds=31)
    assert actions.sweep() == 1
    assert actions.sweep() == 0  # handed over once
    behaviour["raise"] = None
    assert actions.run(job.pk).status == "done"


@pytest.mark.django_db
def test_permanent_failure_and_too_many_attempts_make_a_dead_job(frozen_now, settings):
    settings.GIGBRIDGE_JOB_MAX_ATTEMPTS = 2
    job = actions.enqueue("test.record", {}, key="p")
    behaviour["raise"] = PermanentError("mailbox does not exist")
    assert actions.run(job.pk).status == "dead"
    job2 = actions.enqueue("test.record", {}, key="p2")
    behaviour["raise"] = RuntimeError("bug")
    assert actions.run(job2.pk).status == "retry"
    frozen_now(hours=2)
    assert actions.run(job2.pk).status == "dead"
    job2.refresh_from_db()
    assert "gave up after 2 attempts" in job2.last_error


@pytest.mark.django_db
def test_a_claim_whose_worker_died_is_swept_after_the_lease(frozen_now, settings):
    job = actions.enqueue("test.record", {}, key="lost")
    claimed = actions._claim(job.pk)  # a worker took it ... and died
    assert claimed is not None
    assert actions.run(job.pk).status == "skipped"  # still in the dead worker's hands
    frozen_now(seconds=settings.GIGBRIDGE_JOB_LEASE_SECONDS + 1)
    assert actions.sweep() == 1
    assert actions.run(job.pk).status == "done"
    job.refresh_from_db()
    assert job.attempts == 2
