"""Deliverables: every version of a file a freelancer (a guest of an engagement) adds to the
project folder, scanned as a stream, recorded, and quarantined when infected.

One row per (drive, item, version): the record is unique on the version, so a delta pass that
sees a version twice, a notification delivered twice or a scan job run again after a crash never
records it twice. Progress of the outside work (scan, quarantine, release) lives on the row, not
in the queue: a killed worker's job is swept and run again, and each step checks before it acts.
"""

from django.conf import settings
from django.db import models


class WatchedDrive(models.Model):
    """A workspace drive Gigbridge reads changes from: its Graph ``delta`` link (the place to
    continue from) and when the last pass ran."""

    drive_id = models.CharField(max_length=200, unique=True)
    # Graph's @odata.deltaLink from the last complete pass ("" = start with a full read).
    delta_link = models.TextField(blank=True)
    # A pass is wanted (a notification came, or the schedule asked) since this moment.
    pass_requested_at = models.DateTimeField(null=True, blank=True)
    last_pass_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"drive {self.drive_id}"


class Deliverable(models.Model):
    class Verdict(models.TextChoices):
        PENDING = "pending", "not scanned yet"
        CLEAN = "clean", "clean"
        INFECTED = "infected", "infected"
        TOO_LARGE = "too_large", "not scanned: too large"
        FAILED = "failed", "could not be scanned"

    class State(models.TextChoices):
        AVAILABLE = "available", "in the project folder"
        QUARANTINING = "quarantining", "being quarantined"
        QUARANTINED = "quarantined", "quarantined"
        RELEASING = "releasing", "being released"
        RELEASED = "released", "released from quarantine"

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.PROTECT, related_name="deliverables"
    )
    drive_id = models.CharField(max_length=200)
    item_id = models.CharField(max_length=200)
    version_id = models.CharField(max_length=100, help_text="Graph's driveItemVersion id")
    name = models.CharField(max_length=400)
    folder_path = models.CharField(max_length=1000, blank=True)  # below the drive's root
    web_url = models.CharField(max_length=2000, blank=True)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, blank=True)  # of the bytes scanned
    author_id = models.CharField(max_length=100, blank=True)  # the guest's directory object id
    author_name = models.CharField(max_length=300, blank=True)
    author_email = models.CharField(max_length=300, blank=True)
    added_at = models.DateTimeField(help_text="When the version was added (Graph's time)")
    recorded_at = models.DateTimeField()
    # The request deliverable (Planner task) this file answers, matched by name or folder.
    deliverable_title = models.CharField(max_length=300, blank=True)
    planner_task_id = models.CharField(max_length=100, blank=True)

    verdict = models.CharField(max_length=10, choices=Verdict.choices, default=Verdict.PENDING)
    signature = models.CharField(max_length=300, blank=True)  # what clamd found
    scanner_version = models.CharField(max_length=200, blank=True)  # engine/db version/db date
    scanned_at = models.DateTimeField(null=True, blank=True)
    scan_attempts = models.PositiveIntegerField(default=0)
    scan_error = models.CharField(max_length=500, blank=True)

    state = models.CharField(max_length=12, choices=State.choices, default=State.AVAILABLE)
    # Quarantine progress (each step done once, checked before acting again).
    quarantine_drive_id = models.CharField(max_length=200, blank=True)
    quarantine_item_id = models.CharField(max_length=200, blank=True)
    restore_item_id = models.CharField(max_length=200, blank=True)  # the rebuilt clean file
    restored_version_id = models.CharField(max_length=100, blank=True)  # its source version
    original_removed = models.BooleanField(default=False)
    quarantined_at = models.DateTimeField(null=True, blank=True)
    quarantine_error = models.CharField(max_length=500, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)
    released_item_id = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["drive_id", "item_id", "version_id"], name="files_one_record_per_version"
            )
        ]
        indexes = [
            models.Index(fields=["engagement", "added_at"]),
            # The quarantine (its page, newest first, and the count on the reviewers' home):
            # a few rows among millions of versions, so a partial index of those only.
            models.Index(
                fields=["added_at"],
                condition=models.Q(state__in=["quarantining", "quarantined"]),
                name="files_quarantine_added",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (version {self.version_id})"

    @property
    def blocked(self) -> bool:
        """Out of people's reach or not to be trusted as delivered."""
        return self.verdict in (self.Verdict.INFECTED,) or self.state in (
            self.State.QUARANTINING,
            self.State.QUARANTINED,
        )
