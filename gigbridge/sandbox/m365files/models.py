"""Planner, SharePoint document libraries, and change notification subscriptions.

References to the directory part of the emulator (groups, users) are plain ids, not foreign
keys: rows here outlive what they name (a plan of a deleted group answers 404 through the
lookup, as Graph does), and this app's migrations depend only on the sandbox's first one.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from ..models import Tenant


class FilesSettings(models.Model):
    """The one row of this part's dials: the sandbox clock's offset and lifecycle timing."""

    clock_offset_seconds = models.FloatField(default=0.0)
    # A subscription this close to expiry gets ``reauthorizationRequired`` on the next tick.
    reauthorization_window_seconds = models.PositiveIntegerField(default=3600)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "files settings"

    def __str__(self) -> str:
        return "Sandbox files settings"


# -- Planner ----------------------------------------------------------------------------------


class PlannerPlan(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    group_id = models.UUIDField(db_index=True)  # the owner (container) group
    title = models.CharField(max_length=255)
    created_by = models.JSONField(default=dict)  # identitySet
    created = models.DateTimeField(default=timezone.now)
    etag = models.CharField(max_length=80)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.title


class PlannerBucket(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    plan = models.ForeignKey(PlannerPlan, on_delete=models.CASCADE, related_name="buckets")
    name = models.CharField(max_length=255)
    order_hint = models.CharField(max_length=200)
    created = models.DateTimeField(default=timezone.now)
    etag = models.CharField(max_length=80)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.name


class PlannerTask(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    plan = models.ForeignKey(PlannerPlan, on_delete=models.CASCADE, related_name="tasks")
    bucket = models.ForeignKey(
        PlannerBucket, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    title = models.CharField(max_length=255)
    order_hint = models.CharField(max_length=200)
    assignee_priority = models.CharField(max_length=200, blank=True)
    percent_complete = models.PositiveSmallIntegerField(default=0)
    priority = models.PositiveSmallIntegerField(default=5)
    start = models.DateTimeField(null=True, blank=True)
    due = models.DateTimeField(null=True, blank=True)
    completed = models.DateTimeField(null=True, blank=True)
    completed_by = models.JSONField(null=True, blank=True)  # identitySet
    # user id -> {"assignedBy": identitySet, "assignedDateTime": iso, "orderHint": str}
    assignments = models.JSONField(default=dict)
    applied_categories = models.JSONField(default=dict)
    conversation_thread_id = models.CharField(max_length=200, blank=True)
    created_by = models.JSONField(default=dict)  # identitySet
    created = models.DateTimeField(default=timezone.now)
    etag = models.CharField(max_length=80)
    # plannerTaskDetails, which has its own ETag
    description = models.TextField(blank=True)
    preview_type = models.CharField(max_length=20, default="automatic")
    checklist = models.JSONField(default=dict)
    references = models.JSONField(default=dict)
    details_etag = models.CharField(max_length=80)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.title


# -- SharePoint document libraries ------------------------------------------------------------


class Drive(models.Model):
    """The document library ("Documents") of a group's team site, made on first use."""

    id = models.CharField(primary_key=True, max_length=80)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    group_id = models.UUIDField(unique=True)
    site_id = models.UUIDField(default=uuid.uuid4)
    web_id = models.UUIDField(default=uuid.uuid4)
    list_id = models.UUIDField(default=uuid.uuid4)
    site_name = models.CharField(max_length=100)  # the group's mailNickname
    group_name = models.CharField(max_length=256)
    created = models.DateTimeField(default=timezone.now)
    # The change log's counter (``DriveChange.seq``) and the oldest position a delta token may
    # still name: tokens from before ``delta_floor`` get 410 ``resyncRequired``.
    last_change = models.BigIntegerField(default=0)
    delta_floor = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Documents of {self.group_name}"


class DriveItem(models.Model):
    """A folder or a file; the root folder has no parent. Deleting cascades to children."""

    id = models.CharField(primary_key=True, max_length=40)
    drive = models.ForeignKey(Drive, on_delete=models.CASCADE, related_name="items")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    name = models.CharField(max_length=400)
    is_folder = models.BooleanField(default=False)
    unique_id = models.UUIDField(default=uuid.uuid4)  # the GUID inside eTag and cTag
    description = models.TextField(blank=True)
    list_item_id = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)
    created_by = models.JSONField(default=dict)  # identitySet
    modified = models.DateTimeField(default=timezone.now)
    modified_by = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)  # the eTag's counter: any change
    content_version = models.PositiveIntegerField(default=0)  # the cTag's counter: content
    # The change log position where the item first appeared: a full delta enumeration lists
    # items in this order, so a folder comes before what was created in it.
    first_change = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="sandbox_files_item_name")
        ]

    def __str__(self) -> str:
        return self.name


class DriveItemVersion(models.Model):
    """One version of a file's content; the newest is the current one."""

    item = models.ForeignKey(DriveItem, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()  # "1.0", "2.0", ... as SharePoint numbers them
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    quick_xor = models.CharField(max_length=28)
    mime_type = models.CharField(max_length=200, default="application/octet-stream")
    created = models.DateTimeField(default=timezone.now)
    created_by = models.JSONField(default=dict)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="sandbox_files_version")
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.number}.0"


class DriveChange(models.Model):
    """One entry of a drive's change log, which ``delta`` reads: the item changed (its current
    state is what delta shows) or was deleted (the row keeps what a tombstone needs, since the
    item row is gone). No foreign key to the item: the entry outlives it."""

    drive = models.ForeignKey(Drive, on_delete=models.CASCADE, related_name="changes")
    seq = models.BigIntegerField()  # per drive, increasing
    item_id = models.CharField(max_length=40)
    deleted = models.BooleanField(default=False)
    parent_id = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=400, blank=True)
    is_folder = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["drive", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["drive", "seq"], name="sandbox_files_change_seq")
        ]
        indexes = [models.Index(fields=["drive", "item_id"], name="sandbox_files_change_item")]

    def __str__(self) -> str:
        return f"{self.drive_id} #{self.seq} {self.item_id}{' deleted' if self.deleted else ''}"


class DrivePermission(models.Model):
    """A direct sharing permission on an item (an invitation); children inherit it."""

    id = models.CharField(primary_key=True, max_length=80)
    item = models.ForeignKey(DriveItem, on_delete=models.CASCADE, related_name="permissions")
    email = models.CharField(max_length=256)
    user_id = models.UUIDField(null=True, blank=True)  # the tenant user the address belongs to
    display_name = models.CharField(max_length=256, blank=True)
    roles = models.JSONField(default=list)
    require_sign_in = models.BooleanField(default=True)
    expires = models.DateTimeField(null=True, blank=True)
    invited_by = models.JSONField(default=dict)  # identitySet
    message = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.email} {self.roles} on {self.item_id}"


class UploadSession(models.Model):
    """A resumable upload; bytes received so far sit in a part file until the last chunk."""

    id = models.CharField(primary_key=True, max_length=40)
    token_hash = models.CharField(max_length=64)
    drive = models.ForeignKey(Drive, on_delete=models.CASCADE, related_name="+")
    parent = models.ForeignKey(DriveItem, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=400)
    conflict_behavior = models.CharField(max_length=10, default="fail")
    description = models.TextField(blank=True)
    declared_size = models.BigIntegerField(null=True, blank=True)  # item.fileSize, if sent
    total_size = models.BigIntegerField(null=True, blank=True)  # from the first Content-Range
    received = models.BigIntegerField(default=0)
    created_by = models.JSONField(default=dict)
    expires = models.DateTimeField()
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"upload of {self.name} ({self.received}/{self.total_size})"


# -- Change notifications ---------------------------------------------------------------------


class Subscription(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    application_id = models.CharField(max_length=64)
    creator_id = models.CharField(max_length=64)
    resource = models.CharField(max_length=400)  # as the client wrote it
    # What the resource names, for matching changes: kind "users" | "user" | "team_members" |
    # "drive_root", and the object id (user, team or drive) when there is one.
    kind = models.CharField(max_length=20)
    target = models.CharField(max_length=100, blank=True)
    change_types = models.JSONField(default=list)
    notification_url = models.CharField(max_length=2000)
    lifecycle_url = models.CharField(max_length=2000, blank=True)
    client_state = models.CharField(max_length=255, blank=True)
    latest_tls = models.CharField(max_length=10, default="v1_2")
    expires = models.DateTimeField()
    reauthorization_sent_for = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created"]

    def __str__(self) -> str:
        return f"{self.change_types} on {self.resource}"


class Delivery(models.Model):
    """One POST of a notification collection to a receiver, retried a few times on failure."""

    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    subscription_id = models.UUIDField(db_index=True)  # no FK: outlives a deleted subscription
    url = models.CharField(max_length=2000)
    lifecycle = models.BooleanField(default=False)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_try = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(default=timezone.now)
    delivered = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.state})"
