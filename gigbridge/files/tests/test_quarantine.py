"""Quarantine and release: the infected file leaves the project folder (evidence kept in the
quarantine group's drive, the last clean version rebuilt where the file was), and a released
one comes back; each step done once however often the job dies and runs again."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from gigbridge import clock
from gigbridge.audit.models import AuditEvent
from gigbridge.files import quarantine, watching
from gigbridge.files.models import Deliverable
from gigbridge.integrations.msgraph.errors import RetryableGraphError
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.models import OutboxJob

from . import world
from .drivefake import FakeDrives, person
from .world import DRIVE, EMPLOYEE, FOLDER, GUEST

pytestmark = pytest.mark.django_db
GROUP = "group-security-review"
QDRIVE = "b!quarantine"
INFECTED = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"not really eicar"
SHA = hashlib.sha256(INFECTED).hexdigest()


@pytest.fixture
def fake(monkeypatch, settings):
    fake = FakeDrives().install(monkeypatch)
    fake.now = clock.now()
    fake.drive(QDRIVE, group_id=GROUP)
    settings.FILES = {"quarantine_group_id": GROUP, "quarantine_folder": "Quarantine"}
    monkeypatch.setattr(quarantine, "_graph", lambda: object())
    return fake


@pytest.fixture
def engagement(people, fake):
    return world.engagement(people, world.workspace(fake))


def infected(fake, *history: tuple[bytes, dict, str]) -> Deliverable:
    """The file's history (bytes, author, verdict of a guest's version), then the guest's
    infected version, recorded and found infected."""
    for data, who, verdict in history:
        fake.put(DRIVE, FOLDER, "Logo.png", data, who)
        watching.run_pass(DRIVE, client=object())
        if verdict:
            Deliverable.objects.filter(verdict="pending").update(verdict=verdict)
    fake.put(DRIVE, FOLDER, "Logo.png", INFECTED, GUEST)
    watching.run_pass(DRIVE, client=object())
    row = Deliverable.objects.order_by("-pk").first()  # the infected version's record
    Deliverable.objects.filter(pk=row.pk).update(
        verdict="infected", signature="Eicar-Test-Signature", sha256=SHA, state="quarantining"
    )
    return Deliverable.objects.get(pk=row.pk)


def project_files(fake) -> dict[str, bytes]:
    return {i.name: i.versions[-1].data for i in fake.in_folder(DRIVE, FOLDER)}


def evidence(fake, engagement) -> list:
    return fake.in_folder(QDRIVE, f"Quarantine/{engagement.reference}")


def assert_quarantined(fake, engagement, row: Deliverable, restored: bytes | None) -> None:
    row.refresh_from_db()
    assert row.state == "quarantined" and row.quarantined_at is not None
    assert row.quarantine_error == "" and row.original_removed
    (kept,) = evidence(fake, engagement)
    assert kept.name == f"Logo.png (version {row.version_id}, {SHA[:12]})"
    assert [v.data for v in kept.versions] == [INFECTED]  # uploaded once
    assert fake.items.get(row.item_id) is None  # the infected file and its history are gone
    assert project_files(fake) == ({"Logo.png": restored} if restored is not None else {})
    assert AuditEvent.objects.filter(action="deliverable.quarantined").count() == 1


def test_the_infected_version_goes_to_quarantine_and_the_last_clean_one_comes_back(
    fake, engagement
):
    row = infected(fake, (b"v1 by the guest", GUEST, "clean"), (b"v2 by the team", EMPLOYEE, ""))
    assert quarantine.run_quarantine(row.pk) == "quarantined"
    assert_quarantined(fake, engagement, row, b"v2 by the team")
    row.refresh_from_db()
    assert (row.quarantine_drive_id, row.restored_version_id) == (QDRIVE, "2.0")
    event = AuditEvent.objects.get(action="deliverable.quarantined")
    assert (event.object_type, event.object_id) == ("engagement", str(engagement.pk))
    assert event.after["restored_version"] == "2.0"
    assert quarantine.run_quarantine(row.pk) == "nothing to do: quarantined"


def test_a_guests_version_not_known_clean_is_never_restored(fake, engagement):
    row = infected(fake, (b"v1 clean", GUEST, "clean"), (b"v2 unscanned", GUEST, ""))
    quarantine.run_quarantine(row.pk)
    assert_quarantined(fake, engagement, row, b"v1 clean")


def test_without_an_earlier_clean_version_the_file_is_only_removed(fake, engagement):
    row = infected(fake)
    quarantine.run_quarantine(row.pk)
    assert_quarantined(fake, engagement, row, None)
    assert Deliverable.objects.get(pk=row.pk).restored_version_id == ""


def test_a_clean_version_added_after_the_infected_one_is_the_one_restored(fake, engagement):
    row = infected(fake, (b"v1 by the guest", GUEST, "clean"))
    fake.put(DRIVE, FOLDER, "Logo.png", b"v3 by the team, after it", EMPLOYEE)
    quarantine.run_quarantine(row.pk)
    assert_quarantined(fake, engagement, row, b"v3 by the team, after it")


def test_a_file_deleted_before_its_quarantine_is_quarantined_without_a_copy(fake, engagement):
    row = infected(fake, (b"v1 by the guest", GUEST, "clean"))
    fake.permanent_delete(None, DRIVE, row.item_id)
    assert quarantine.run_quarantine(row.pk) == "quarantined"
    row.refresh_from_db()
    assert row.quarantine_item_id == "" and row.original_removed
    assert "before a copy was kept" in row.quarantine_error
    assert evidence(fake, engagement) == [] and project_files(fake) == {}
    assert AuditEvent.objects.get(action="deliverable.quarantined").after["evidence"] is None


STEPS = [
    ("group_drive", 0),  # before anything
    ("download_to", 0),  # reading the infected bytes
    ("upload_file", 0),  # the evidence
    ("versions", 0),  # choosing the version to restore (the evidence is kept by then)
    ("upload_file", 1),  # the clean copy
    ("permanent_delete", 0),
    ("rename", 0),
]


@pytest.mark.parametrize(("step", "after"), STEPS)
def test_graph_failing_at_any_step_resumes_and_does_each_step_once(fake, engagement, step, after):
    row = infected(fake, (b"v1 by the guest", GUEST, "clean"))
    fake.fail(step, after=after)
    with pytest.raises(RetryableGraphError):
        quarantine.run_quarantine(row.pk)
    stuck = Deliverable.objects.get(pk=row.pk)
    assert stuck.state == "quarantining" and "503" in stuck.quarantine_error
    assert quarantine.run_quarantine(row.pk) == "quarantined"
    assert_quarantined(fake, engagement, row, b"v1 by the guest")


@pytest.mark.parametrize("lost", [1, 2, 3])
def test_a_step_done_in_graph_but_not_recorded_is_found_again(fake, engagement, monkeypatch, lost):
    """The worker dies after Graph did a step and before the row says so (the evidence
    uploaded, the clean copy uploaded, the original deleted): the next run finds it done."""
    row = infected(fake, (b"v1 by the guest", GUEST, "clean"))
    real, saves = quarantine._save, []

    def save_then_die(target, **fields):
        saves.append(fields)
        if len(saves) == lost:
            raise KeyboardInterrupt("worker killed")
        real(target, **fields)

    monkeypatch.setattr(quarantine, "_save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        quarantine.run_quarantine(row.pk)
    monkeypatch.setattr(quarantine, "_save", real)
    assert quarantine.run_quarantine(row.pk) == "quarantined"
    assert_quarantined(fake, engagement, row, b"v1 by the guest")
    assert fake.calls.count("permanent_delete") == (2 if lost == 3 else 1)


def test_a_file_put_back_meanwhile_keeps_its_name_and_ours_is_renamed(fake, engagement):
    row = infected(fake, (b"v1 by the guest", GUEST, "clean"))
    fake.fail("rename", after=0)
    with pytest.raises(RetryableGraphError):
        quarantine.run_quarantine(row.pk)
    fake.put(DRIVE, FOLDER, "Logo.png", b"a colleague's new logo", EMPLOYEE)
    quarantine.run_quarantine(row.pk)
    assert project_files(fake) == {
        "Logo.png": b"a colleague's new logo",
        "Logo 1.png": b"v1 by the guest",
    }


def test_without_a_quarantine_group_it_says_so_and_does_not_retry(fake, engagement, settings):
    settings.FILES = {"quarantine_group_id": "", "quarantine_folder": "Quarantine"}
    row = infected(fake)
    job = jobs.enqueue(quarantine.QUARANTINE_JOB, {"deliverable_id": row.pk}, key="q-test")
    assert jobs.run(job.pk).status == "done"
    row.refresh_from_db()
    assert row.state == "quarantining" and "GIGBRIDGE_QUARANTINE_GROUP_ID" in row.quarantine_error
    assert project_files(fake) == {"Logo.png": INFECTED}  # still there: people are shown why


def test_a_quarantine_that_waited_for_a_group_resumes_once_one_is_configured(
    fake, engagement, settings, monkeypatch, frozen_now
):
    from gigbridge.integrations.msgraph import connection

    monkeypatch.setattr(connection, "configured", lambda: True)
    settings.FILES = {"quarantine_group_id": "", "quarantine_folder": "Quarantine"}
    row = infected(fake)
    quarantine.run_quarantine(row.pk)
    watching.schedule_delta()
    assert not OutboxJob.objects.filter(kind=quarantine.QUARANTINE_JOB).exists()
    settings.FILES = {"quarantine_group_id": GROUP, "quarantine_folder": "Quarantine"}
    watching.schedule_delta()
    watching.schedule_delta()  # same window: one job
    (job,) = OutboxJob.objects.filter(kind=quarantine.QUARANTINE_JOB)
    assert jobs.run(job.pk).status == "done"
    assert_quarantined(fake, engagement, row, None)
    frozen_now(minutes=15)
    watching.schedule_delta()  # done: nothing queued again
    assert OutboxJob.objects.filter(kind=quarantine.QUARANTINE_JOB).count() == 1


def test_the_scan_queues_the_quarantine_job_that_the_outbox_runs(fake, engagement):
    row = infected(fake)
    job = jobs.enqueue(quarantine.QUARANTINE_JOB, {"deliverable_id": row.pk}, key="q-run")
    assert jobs.run(job.pk).status == "done"
    assert Deliverable.objects.get(pk=row.pk).state == "quarantined"


# -- release -----------------------------------------------------------------------------------


def releasing(row: Deliverable, people) -> Deliverable:
    """What files.actions.release (helper D) leaves: RELEASING, who, when, why."""
    Deliverable.objects.filter(pk=row.pk).update(
        state="releasing",
        released_by=people["ada"],
        released_at=clock.now(),
        release_reason="false positive: checked by hand",
    )
    return Deliverable.objects.get(pk=row.pk)


def test_a_release_copies_the_file_back_beside_the_restored_one(fake, engagement, people):
    row = infected(fake, (b"v1 by the guest", GUEST, "clean"))
    quarantine.run_quarantine(row.pk)
    row = releasing(row, people)
    fake.now = clock.now() + dt.timedelta(minutes=1)
    assert quarantine.run_release(row.pk) == "released"
    assert project_files(fake) == {"Logo.png": b"v1 by the guest", "Logo 1.png": INFECTED}
    row.refresh_from_db()
    assert row.state == "released" and row.released_item_id
    event = AuditEvent.objects.get(action="deliverable.returned")
    assert event.after["name"] == "Logo 1.png" and event.object_id == str(engagement.pk)
    assert len(evidence(fake, engagement)) == 1  # the evidence stays
    assert quarantine.run_release(row.pk) == "nothing to do: released"


def test_a_release_whose_upload_was_not_recorded_adopts_the_copy(
    fake, engagement, people, monkeypatch
):
    row = infected(fake)
    quarantine.run_quarantine(row.pk)
    row = releasing(row, people)
    fake.now = clock.now() + dt.timedelta(seconds=5)
    real = quarantine._save

    def die(target, **fields):
        raise KeyboardInterrupt("worker killed")

    monkeypatch.setattr(quarantine, "_save", die)
    with pytest.raises(KeyboardInterrupt):
        quarantine.run_release(row.pk)
    monkeypatch.setattr(quarantine, "_save", real)
    assert quarantine.run_release(row.pk) == "released"
    assert project_files(fake) == {"Logo.png": INFECTED}
    assert fake.calls.count("upload_file rename") == 1
    assert AuditEvent.objects.filter(action="deliverable.returned").count() == 1


def test_a_guests_file_of_the_same_name_is_not_taken_for_the_released_copy(
    fake, engagement, people
):
    row = infected(fake)
    quarantine.run_quarantine(row.pk)
    row = releasing(row, people)
    stranger_copy = person(world.GUEST_ID, "Freya Freelancer", world.FREELANCER)
    fake.put(DRIVE, FOLDER, "Logo.png", INFECTED, stranger_copy)  # uploaded again by the guest
    quarantine.run_release(row.pk)
    assert sorted(project_files(fake)) == ["Logo 1.png", "Logo.png"]


def test_only_a_releasing_deliverable_is_released(fake, engagement):
    row = infected(fake)
    assert quarantine.run_release(row.pk) == "nothing to do: quarantining"
    assert not OutboxJob.objects.filter(kind=quarantine.RELEASE_JOB).exists()


def test_releasing_one_kept_without_a_copy_records_the_release_and_returns_nothing(
    fake, engagement, people
):
    row = infected(fake)
    fake.permanent_delete(None, DRIVE, row.item_id)
    quarantine.run_quarantine(row.pk)
    row = releasing(row, people)
    assert quarantine.run_release(row.pk) == "released"
    assert project_files(fake) == {}
    event = AuditEvent.objects.get(action="deliverable.returned")
    assert event.after["name"] is None and "before a copy was kept" in event.after["note"]
