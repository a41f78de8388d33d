"""The delta pass: a guest's new versions under a workspace's folder become deliverables, once;
everything else is left alone; a pass that dies resumes from the page it was on; notifications
and the schedule ask for passes without piling them up."""

from __future__ import annotations

import datetime as dt

import pytest

from gigbridge import clock
from gigbridge.access import watch
from gigbridge.access.models import Grant, GraphSubscription
from gigbridge.audit.models import AuditEvent
from gigbridge.files import watching
from gigbridge.files.models import Deliverable, WatchedDrive
from gigbridge.integrations.msgraph.errors import RetryableGraphError
from gigbridge.jobs.models import InboxEvent, OutboxJob

from . import world
from .drivefake import FakeDrives, person
from .world import DRIVE, EMPLOYEE, FOLDER, GUEST

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(monkeypatch):
    fake = FakeDrives().install(monkeypatch)
    fake.now = clock.now()
    return fake


@pytest.fixture
def space(fake):
    return world.workspace(fake)


@pytest.fixture
def engagement(people, space):
    return world.engagement(people, space)


def run(fake) -> dict:
    return watching.run_pass(DRIVE, client=object())


def scan_jobs() -> list[OutboxJob]:
    return list(OutboxJob.objects.filter(kind=watching.SCAN_JOB).order_by("pk"))


def test_a_guests_file_becomes_a_recorded_deliverable_with_its_scan_queued(fake, engagement):
    fake.put(DRIVE, FOLDER, "Logo final.png", b"png bytes", GUEST)
    counts = run(fake)
    assert counts["recorded"] == 1
    row = Deliverable.objects.get()
    assert (row.engagement, row.name, row.version_id, row.size) == (
        engagement,
        "Logo final.png",
        "1.0",
        9,
    )
    assert (row.folder_path, row.author_name, row.author_email) == (
        FOLDER,
        "Freya Freelancer",
        world.FREELANCER,
    )
    assert row.verdict == Deliverable.Verdict.PENDING
    # The request's deliverable "Logo" is in the file's name: its Planner task is linked.
    assert (row.deliverable_title, row.planner_task_id) == ("Logo", "task-0")
    event = AuditEvent.objects.get(action="deliverable.recorded")
    assert (event.object_type, event.object_id) == ("engagement", str(engagement.pk))
    assert event.after["deliverable_id"] == row.pk and event.after["version"] == "1.0"
    assert [job.idempotency_key for job in scan_jobs()] == [f"files.scan:{row.pk}"]
    assert WatchedDrive.objects.get(drive_id=DRIVE).delta_link.startswith("delta:")


def test_seen_again_it_is_not_recorded_twice(fake, engagement):
    fake.put(DRIVE, FOLDER, "Logo.png", b"v1", GUEST)
    run(fake)
    run(fake)  # no change: nothing new
    WatchedDrive.objects.filter(drive_id=DRIVE).update(delta_link="")
    assert run(fake)["recorded"] == 0  # a full read sees the file again
    assert Deliverable.objects.count() == 1
    assert AuditEvent.objects.filter(action="deliverable.recorded").count() == 1
    assert len(scan_jobs()) == 1


def test_a_refused_delta_link_reads_the_drive_again_and_records_nothing_twice(fake, engagement):
    fake.put(DRIVE, FOLDER, "Logo.png", b"v1", GUEST)
    run(fake)
    fake.put(DRIVE, FOLDER, "Logo.png", b"v2 from the guest", GUEST)
    link = WatchedDrive.objects.get(drive_id=DRIVE).delta_link
    fake.stale_links.add(link)  # Graph answers 410: the drive is read whole
    assert run(fake)["recorded"] == 1
    assert sorted(Deliverable.objects.values_list("version_id", flat=True)) == ["1.0", "2.0"]


def test_only_the_guests_versions_made_while_they_held_access_count(fake, engagement):
    guest_grant = Grant.objects.get(engagement=engagement, kind=Grant.Kind.GUEST)
    fake.now = guest_grant.applied_at - dt.timedelta(hours=1)
    fake.put(DRIVE, FOLDER, "Brief.docx", b"before the contract", GUEST)  # no access yet
    fake.now = clock.now()
    fake.put(DRIVE, FOLDER, "Brief.docx", b"by the team", EMPLOYEE)  # an employee's version
    fake.put(DRIVE, FOLDER, "Brief.docx", b"the guest's answer", GUEST)
    stranger = person("11111111-2222-3333-4444-555555555555", "Someone", "x@elsewhere.example")
    fake.put(DRIVE, FOLDER, "Other.docx", b"not ours", stranger)
    run(fake)
    assert list(Deliverable.objects.values_list("name", "version_id")) == [("Brief.docx", "3.0")]
    # After the grant was removed, a version of theirs (left by a sync client) is not theirs
    # to deliver any more.
    Grant.objects.filter(pk=guest_grant.pk).update(
        state=Grant.State.REMOVED, removed_at=clock.now() + dt.timedelta(minutes=1)
    )
    fake.now = clock.now() + dt.timedelta(hours=1)
    fake.put(DRIVE, FOLDER, "Brief.docx", b"late", GUEST)
    run(fake)
    assert Deliverable.objects.count() == 1


def test_files_outside_the_project_folder_are_ignored_and_subfolders_count(fake, engagement):
    fake.put(DRIVE, "Freelance/Autumn", "Logo.png", b"another project", GUEST)
    fake.put(DRIVE, "", "Logo.png", b"drive root", GUEST)
    fake.put(DRIVE, f"{FOLDER}/Brand guide", "draft 2.pdf", b"pdf", GUEST)
    run(fake)
    row = Deliverable.objects.get()
    assert (row.name, row.folder_path) == ("draft 2.pdf", f"{FOLDER}/Brand guide")
    # Delta results carry no folder path: the parent was looked up by id, once.
    assert fake.calls.count("get_item") >= 1
    # The folder below the project folder names the deliverable "Brand guide".
    assert (row.deliverable_title, row.planner_task_id) == ("Brand guide", "task-1")


def test_a_file_that_names_no_deliverable_is_recorded_without_a_task(fake, engagement):
    fake.put(DRIVE, FOLDER, "notes.txt", b"n", GUEST)
    run(fake)
    row = Deliverable.objects.get()
    assert (row.deliverable_title, row.planner_task_id) == ("", "")


def test_a_pass_that_dies_resumes_from_its_page_and_records_each_version_once(fake, engagement):
    run(fake)  # the folders, read once
    for number in range(5):
        fake.put(DRIVE, FOLDER, f"part {number}.bin", b"x" * (number + 1), GUEST)
    fake.fail("delta", after=1)  # the second page cannot be read
    with pytest.raises(RetryableGraphError):
        run(fake)
    assert Deliverable.objects.count() == 2  # the first page's files
    watched = WatchedDrive.objects.get(drive_id=DRIVE)
    assert watched.delta_link.startswith("next:") and "503" in watched.last_error
    counts = run(fake)
    assert counts["recorded"] == 3
    assert Deliverable.objects.count() == 5 and len(scan_jobs()) == 5
    watched.refresh_from_db()
    assert watched.delta_link.startswith("delta:") and watched.last_error == ""


def test_files_older_than_any_guests_access_are_not_even_listed(fake, space, people):
    fake.now = clock.now() - dt.timedelta(days=30)
    fake.put(DRIVE, FOLDER, "Old brief.docx", b"from last year", EMPLOYEE)
    run(fake)  # no guest in the workspace yet
    assert fake.calls.count("versions") == 0
    world.engagement(people, space)  # the guest's access starts yesterday
    WatchedDrive.objects.filter(drive_id=DRIVE).update(delta_link="")
    fake.now = clock.now()
    fake.put(DRIVE, FOLDER, "Logo.png", b"new", GUEST)
    run(fake)
    assert fake.calls.count("versions") == 1  # only the file changed since then
    assert list(Deliverable.objects.values_list("name", flat=True)) == ["Logo.png"]


def test_a_new_version_after_a_recorded_one_is_recorded(fake, engagement):
    fake.put(DRIVE, FOLDER, "Logo.png", b"v1", GUEST)
    run(fake)
    fake.put(DRIVE, FOLDER, "Logo.png", b"v2 by the team", EMPLOYEE)
    fake.put(DRIVE, FOLDER, "Logo.png", b"v3 by the guest", GUEST)
    run(fake)
    assert sorted(Deliverable.objects.values_list("version_id", flat=True)) == ["1.0", "3.0"]


# -- asking for passes ---------------------------------------------------------------------------


def delta_jobs() -> list[OutboxJob]:
    return list(OutboxJob.objects.filter(kind=watching.DELTA_JOB).order_by("pk"))


def test_a_burst_of_requests_is_one_pass_and_a_request_during_a_pass_is_another(space):
    assert watching.request_pass(DRIVE, "notification") is True
    assert watching.request_pass(DRIVE, "notification") is False
    assert len(delta_jobs()) == 1
    assert WatchedDrive.objects.get(drive_id=DRIVE).pass_requested_at is not None
    OutboxJob.objects.update(claimed_until=clock.now() + dt.timedelta(minutes=5))  # running
    assert watching.request_pass(DRIVE, "notification") is True
    assert len(delta_jobs()) == 2


def test_the_schedule_reads_every_workspace_drive_once_per_window(space, monkeypatch, frozen_now):
    from gigbridge.integrations.msgraph import connection

    monkeypatch.setattr(connection, "configured", lambda: True)
    assert watching.schedule_delta() == 1
    assert watching.schedule_delta() == 0  # same 15-minute window
    frozen_now(minutes=15)
    assert watching.schedule_delta() == 1
    assert [job.payload["drive_id"] for job in delta_jobs()] == [DRIVE, DRIVE]


def test_nothing_is_scheduled_without_a_tenant(space):
    assert watching.schedule_delta() == 0


# -- access.watch hands drive notifications here ------------------------------------------------


def test_each_workspace_drive_root_is_subscribed_with_updated_only(space):
    assert watch.wanted_resources()[f"/drives/{DRIVE}/root"] == ("updated",)


def _notification(payload: dict) -> str:
    event = InboxEvent.objects.create(
        source=watch.SOURCE, external_id=str(InboxEvent.objects.count()), payload=payload,
        received_at=clock.now(),
    )  # fmt: skip
    return watch.handle(object(), event.pk)


def test_a_drive_notification_asks_for_a_pass(space):
    outcome = _notification(
        {"subscriptionId": "s1", "changeType": "updated", "resource": f"drives/{DRIVE}/root"}
    )
    assert "delta pass queued" in outcome
    assert [job.payload["drive_id"] for job in delta_jobs()] == [DRIVE]


def test_missed_notifications_of_a_drive_ask_for_a_pass_too(space):
    GraphSubscription.objects.create(
        resource=f"/drives/{DRIVE}/root",
        subscription_id="sub-drive",
        client_state="secret",
        expires_at=clock.now() + dt.timedelta(days=1),
        created_at=clock.now(),
    )
    outcome = _notification({"subscriptionId": "sub-drive", "lifecycleEvent": "missed"})
    assert "delta pass queued" in outcome


def test_a_drive_no_workspace_uses_is_ignored(space):
    outcome = _notification(
        {"subscriptionId": "s1", "changeType": "updated", "resource": "drives/b!other/root"}
    )
    assert "no workspace" in outcome and delta_jobs() == []


def test_a_deleted_item_and_a_removed_file_are_skipped(fake, engagement):
    item = fake.put(DRIVE, FOLDER, "Logo.png", b"v1", GUEST)
    fake.permanent_delete(None, DRIVE, item.id)
    assert run(fake)["recorded"] == 0
    assert not Deliverable.objects.exists()
