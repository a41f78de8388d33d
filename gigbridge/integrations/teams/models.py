"""What the bot remembers about Teams: people (Entra object id, mail, their 1:1 chat with the bot)
and the answers it gave to card clicks (so a click delivered twice is decided once)."""

from __future__ import annotations

from django.db import models


class TeamsMember(models.Model):
    """A person as Teams and Graph know them; the personal conversation once one exists.

    ``email`` is what Graph said (``mail``, lower-cased) at ``resolved_at``; the conversation and
    its service URL come from the Connector's answer or from an activity the person sent."""

    aad_object_id = models.CharField(max_length=64, unique=True)
    email = models.CharField(max_length=254, blank=True, db_index=True)
    name = models.CharField(max_length=200, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    conversation_id = models.CharField(max_length=400, blank=True)
    service_url = models.CharField(max_length=400, blank=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.email or self.aad_object_id


class TeamsInvoke(models.Model):
    """One ``adaptiveCard/action`` invoke, by activity id: the answer given, so a retried
    delivery gets the same answer and the handler runs once. ``response`` is null while the
    handler runs (a claim older than the lease may be taken over)."""

    activity_id = models.CharField(max_length=200, unique=True)
    verb = models.CharField(max_length=200, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.verb} {self.activity_id}"
