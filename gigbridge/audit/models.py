"""Append-only, hash-chained audit events.

Each event's hash covers its content and the previous event's hash, so changing, deleting or
re-ordering any stored event breaks the chain from that point on (``gigbridge audit verify``).
The hash is keyed (HMAC with the audit key, version 2) so that database access alone cannot
recompute a consistent chain; events written before keying carry the plain SHA-256 (version 1)
and are sealed once with the key (``AuditHead.legacy_seal``). Checkpoints outside the database
catch what a chain cannot: its end cut off (``checkpoints.py``).
"""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    seq = models.BigIntegerField(primary_key=True)
    created_at = models.DateTimeField(db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
    )
    actor = models.CharField(
        max_length=200, help_text="Who acted: a username, 'system' or a service"
    )
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    policy_version = models.IntegerField(null=True, blank=True)
    rule = models.CharField(max_length=100, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # 1 = SHA-256 of the content (before the key existed), 2 = HMAC-SHA256 with the audit key.
    hash_version = models.PositiveSmallIntegerField(default=2)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id} by {self.actor}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("audit events are append-only")


class AuditHead(models.Model):
    """The chain's tip in one row: locking it serialises writers so the chain stays linear."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    # Events 1..legacy_seq were written unkeyed; the seal (HMAC over that count and the last of
    # their hashes) stops anyone without the key from passing later events off as unkeyed ones.
    legacy_seq = models.BigIntegerField(default=0)
    legacy_seal = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


class AuditCheckpoint(models.Model):
    """The database's note of each checkpoint written to the checkpoint file, so a deleted or
    rolled-back file is noticed. The file, not this table, is what the chain is checked against."""

    number = models.PositiveIntegerField(unique=True)
    written_at = models.DateTimeField()
    events = models.BigIntegerField()
    last_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"audit checkpoint #{self.number} ({self.events} events)"
