"""The rate buckets every web and worker process shares (see ``ratelimit.DatabaseTokenBucket``)."""

from __future__ import annotations

from django.db import models


class RateBucket(models.Model):
    """One token bucket: its balance and when it was last refilled.

    ``updated_at`` is wall-clock seconds since the epoch (a float, not a datetime) because the
    refill arithmetic runs in SQL on both SQLite and PostgreSQL; ``tokens`` goes below zero
    while callers wait on the turns they reserved. The table name is the one the bucket used
    when it created its table at run time, so the migration takes an existing table over.
    """

    name = models.CharField(max_length=200, primary_key=True)
    tokens = models.FloatField()
    updated_at = models.FloatField()

    class Meta:
        db_table = "gigbridge_rate_bucket"

    def __str__(self) -> str:
        return f"rate bucket {self.name}: {self.tokens:.2f}"
