"""The scan job: the verdict of one recorded version, written once whatever happens to the
worker, and what follows it (quarantine, notices) queued with it.

The streaming scan (``files.scanning.scan_download``, clamd) is replaced by a recording fake:
``scanning`` is looked up on the ``gigbridge.files`` package when a scan runs."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import gigbridge.files
from gigbridge import clock
from gigbridge.audit.models import AuditEvent
from gigbridge.files import scan, watching
from gigbridge.files.models import Deliverable
from gigbridge.integrations.msgraph.errors import RetryableGraphError
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.errors import RetryableError
from gigbridge.jobs.models import OutboxJob
from gigbridge.notifications import actions as notices
from gigbridge.program import actions as program

from . import world
from .drivefake import FakeDrives, not_found
from .world import DRIVE, FOLDER, GUEST

pytestmark = pytest.mark.django_db
EICAR = "Eicar-Test-Signature"
SHA = "ab" * 32


class FakeScanner:
    """scan_download(url, expected_size=...) -> Scanned; ``answers`` are results or errors."""

    def __init__(self, fake: FakeDrives):
        self.fake = fake
        self.calls: list[tuple[str, int | None]] = []
        self.answers: list = []
        self.during = None  # called inside a scan (another worker running the same job)

    def scan_download(self, url: str, *, expected_size=None, scanner=None):
        self.calls.append((url, expected_size))
        if self.during is not None:
            during, self.during = self.during, None
            during()
        answer = self.answers.pop(0) if self.answers else ("clean", "")
        if isinstance(answer, Exception):
            raise answer
        status, signature = answer
        data = self.fake.bytes_of(url)
        return SimpleNamespace(
            size=len(data),
            sha256=SHA,
            result=SimpleNamespace(status=status, signature=signature),
            scanner="ClamAV 1.4.3/27000/Thu Dec  3 09:00:00 2026",
        )


@pytest.fixture
def fake(monkeypatch):
    fake = FakeDrives().install(monkeypatch)
    fake.now = clock.now()
    return fake


@pytest.fixture
def scanner(fake, monkeypatch):
    scanner = FakeScanner(fake)
    # The real module is integrations/clamav's work (helper A): the package attribute is what
    # ``from gigbridge.files import scanning`` finds first.
    monkeypatch.setattr(gigbridge.files, "scanning", scanner, raising=False)
    monkeypatch.setattr(scan, "_graph", lambda: object())
    return scanner


@pytest.fixture
def deliverable(people, fake, scanner):
    space = world.workspace(fake)
    world.engagement(people, space)
    fake.put(DRIVE, FOLDER, "Logo.png", b"the guest's logo", GUEST)
    watching.run_pass(DRIVE, client=object())
    return Deliverable.objects.get()


def use_policy(monkeypatch, **files):
    version, policy = program.current()
    changed = policy.model_copy(update={"files": policy.files.model_copy(update=files)})
    monkeypatch.setattr(program, "current", lambda: (version, changed))


def notice_jobs() -> list[OutboxJob]:
    """The notices about deliverables (the engagement's own notices are not counted)."""
    return [
        job
        for job in OutboxJob.objects.filter(
            kind__in=[notices.MAIL_JOB, notices.TEAMS_JOB]
        ).order_by("pk")
        if job.payload.get("template", "").startswith("deliverable_")
    ]


def quarantine_jobs() -> list[OutboxJob]:
    return list(OutboxJob.objects.filter(kind=scan.QUARANTINE_JOB))


def test_a_clean_file_is_recorded_clean_and_nobody_is_told(deliverable, scanner):
    assert scan.run_scan(deliverable.pk) == "clean"
    row = Deliverable.objects.get()
    assert (row.verdict, row.sha256, row.state) == ("clean", SHA, "available")
    assert row.scanner_version.startswith("ClamAV 1.4.3/27000")
    assert row.scanned_at is not None
    assert row.scan_attempts == 1
    # The current version's bytes, with the size the record expects.
    assert scanner.calls == [(f"fake://{row.item_id}/1.0", row.size)]
    event = AuditEvent.objects.get(action="deliverable.scanned")
    assert event.after["verdict"] == "clean" and event.after["sha256"] == SHA
    assert (event.object_type, event.object_id) == ("engagement", str(row.engagement_id))
    assert notice_jobs() == [] and quarantine_jobs() == []


def test_an_infected_file_is_quarantined_and_the_manager_and_security_are_told(
    deliverable, scanner, people, monkeypatch
):
    auditor = people["ada"]
    use_policy(monkeypatch, security_contacts=(auditor.email, "soc@contoso.example"))
    scanner.answers = [("infected", EICAR)]
    assert scan.run_scan(deliverable.pk) == "infected"
    row = Deliverable.objects.get()
    assert (row.verdict, row.signature, row.state) == ("infected", EICAR, "quarantining")
    assert [job.idempotency_key for job in quarantine_jobs()] == [f"files.quarantine:{row.pk}"]
    told = notice_jobs()
    assert {job.payload["template"] for job in told} == {"deliverable_quarantined"}
    to_users = {job.payload.get("user_id") for job in told if "user_id" in job.payload}
    assert to_users == {row.engagement.request.requester_id, auditor.pk}
    assert [job.payload["to"] for job in told if "to" in job.payload] == ["soc@contoso.example"]
    context = told[0].payload["context"]
    assert context == {
        "deliverable_id": row.pk,
        "engagement_id": row.engagement_id,
        "engagement": row.engagement.reference,
        "title": row.engagement.request.title,
        "file": "Logo.png",
        "version": "1.0",
        "size": row.size,
        "author": "Freya Freelancer",
        "folder": FOLDER,
        "verdict": "infected",
        "verdict_label": "infected",
        "signature": EICAR,
        "quarantined": True,
    }


def test_too_large_blocks_by_policy(deliverable, scanner):
    scanner.answers = [("too_large", "")]
    scan.run_scan(deliverable.pk)
    row = Deliverable.objects.get()
    assert (row.verdict, row.state) == ("too_large", "quarantining")
    assert len(quarantine_jobs()) == 1
    assert {j.payload["template"] for j in notice_jobs()} == {"deliverable_quarantined"}
    event = AuditEvent.objects.get(action="deliverable.scanned")
    assert event.rule == "files.too_large" and event.policy_version is not None


def test_too_large_allowed_stays_available_and_people_are_told_it_is_unscanned(
    deliverable, scanner, monkeypatch
):
    use_policy(monkeypatch, too_large="allow")
    scanner.answers = [("too_large", "")]
    scan.run_scan(deliverable.pk)
    row = Deliverable.objects.get()
    assert (row.verdict, row.state) == ("too_large", "available")
    assert quarantine_jobs() == []
    told = notice_jobs()
    assert told and {j.payload["template"] for j in told} == {"deliverable_unscanned"}
    assert told[0].payload["context"]["quarantined"] is False
    assert told[0].payload["context"]["verdict_label"] == "not scanned: too large"


def test_a_scan_that_died_is_scanned_again_and_recorded_once(deliverable, scanner):
    # The first attempt's scanner went away mid-stream (or its worker was killed): nothing is
    # recorded; the job runs again and records the verdict; a third run does nothing.
    scanner.answers = [RetryableGraphError(None, "ReadTimeout", "lost", None, "GET", "/dl")]
    with pytest.raises(RetryableError):
        scan.run_scan(deliverable.pk)
    row = Deliverable.objects.get()
    assert (row.verdict, row.scan_attempts) == ("pending", 1) and "lost" in row.scan_error
    scanner.answers = [("infected", EICAR)]
    assert scan.run_scan(deliverable.pk) == "infected"
    assert scan.run_scan(deliverable.pk) == "already infected"
    assert len(scanner.calls) == 2
    assert AuditEvent.objects.filter(action="deliverable.scanned").count() == 1
    assert len(quarantine_jobs()) == 1
    assert Deliverable.objects.get().scan_error == ""


def test_two_runs_of_the_same_job_at_once_record_once(deliverable, scanner):
    # A swept job runs on a second worker while the first is still scanning: both scan, the
    # second to finish finds the verdict written and writes nothing.
    scanner.answers = [("infected", EICAR), ("infected", EICAR)]
    outcomes = []
    scanner.during = lambda: outcomes.append(scan.run_scan(deliverable.pk))
    outcomes.append(scan.run_scan(deliverable.pk))
    assert outcomes == ["infected", "already infected"]
    assert AuditEvent.objects.filter(action="deliverable.scanned").count() == 1
    assert len(quarantine_jobs()) == 1
    managers = [j for j in notice_jobs() if j.payload.get("user_id")]
    assert len({j.idempotency_key for j in managers}) == len(managers)


def test_a_version_gone_before_its_scan_is_recorded_as_not_scanned(deliverable, scanner, fake):
    fake.fail("download_url", not_found("item"))
    assert scan.run_scan(deliverable.pk) == "failed"
    row = Deliverable.objects.get()
    assert row.verdict == "failed" and "not found" in row.scan_error
    assert AuditEvent.objects.get(action="deliverable.scanned").after["verdict"] == "failed"
    assert notice_jobs() == [] and quarantine_jobs() == []


def test_a_scan_that_keeps_failing_gives_up_as_not_scanned(deliverable, scanner, settings):
    settings.GIGBRIDGE_JOB_MAX_ATTEMPTS = 2
    scanner.answers = [ConnectionRefusedError("clamd"), ConnectionRefusedError("clamd")]
    with pytest.raises(RetryableError):
        scan.run_scan(deliverable.pk)
    assert scan.run_scan(deliverable.pk) == "failed"
    assert "gave up after 2 attempts" in Deliverable.objects.get().scan_error


def test_the_outbox_runs_the_scan_job(deliverable, scanner):
    (job,) = OutboxJob.objects.filter(kind=scan.SCAN_JOB)
    assert jobs.run(job.pk).status == "done"
    assert Deliverable.objects.get().verdict == "clean"
