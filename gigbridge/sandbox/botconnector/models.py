"""What the Bot Connector keeps: its settings, conversations and their activities."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from ..models import GraphChannel, GraphTeam, SandboxUser, Tenant
from .defaults import DEFAULT_ENDPOINT


class BotSettings(models.Model):
    """The one row: the bot's messaging endpoint, as an Azure Bot resource keeps it."""

    messaging_endpoint = models.CharField(max_length=2000, default=DEFAULT_ENDPOINT)
    # The tools' throttle dial: the next this many Connector calls answer 429 with Retry-After.
    throttle_next = models.PositiveIntegerField(default=0)
    retry_after = models.PositiveIntegerField(default=1)  # seconds
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "bot settings"

    def __str__(self) -> str:
        return self.messaging_endpoint

    @classmethod
    def current(cls) -> BotSettings:
        row = cls.objects.order_by("pk").first()
        return row or cls.objects.create()


class Conversation(models.Model):
    class Kind(models.TextChoices):
        PERSONAL = "personal"
        CHANNEL = "channel"  # one thread of a channel: "<channel id>;messageid=<root id>"

    id = models.CharField(max_length=300, primary_key=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    bot_app_id = models.CharField(max_length=64)
    user = models.ForeignKey(
        SandboxUser, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        GraphTeam, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    channel = models.ForeignKey(
        GraphChannel, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    root_id = models.CharField(max_length=40, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bot_app_id", "user"],
                condition=models.Q(kind="personal"),
                name="sandbox_bot_personal_once",
            )
        ]

    def __str__(self) -> str:
        return self.id


class Activity(models.Model):
    """A message in a conversation (the bot's or a person's); deleted ones stay, marked."""

    class Delivery(models.TextChoices):
        NONE = ""  # the bot's own, or nothing to deliver
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    activity_id = models.CharField(max_length=40, unique=True)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="activities"
    )
    from_id = models.CharField(max_length=200)
    from_name = models.CharField(max_length=256, blank=True)
    from_user = models.ForeignKey(
        SandboxUser, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )  # null: the bot
    type = models.CharField(max_length=40, default="message")
    text = models.TextField(blank=True)
    text_format = models.CharField(max_length=20, default="plain")
    summary = models.CharField(max_length=1000, blank=True)
    attachments = models.JSONField(default=list)
    reply_to_id = models.CharField(max_length=40, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)
    edited = models.DateTimeField(null=True, blank=True)
    deleted = models.DateTimeField(null=True, blank=True)
    # A person's message: what became of it at the bot's endpoint (with a retry in the view).
    delivery = models.CharField(max_length=10, choices=Delivery.choices, blank=True, default="")
    delivery_error = models.CharField(max_length=500, blank=True)
    delivery_kind = models.CharField(max_length=20, blank=True)  # message|messageUpdate|...

    class Meta:
        ordering = ["timestamp", "pk"]

    def __str__(self) -> str:
        return self.activity_id

    @property
    def by_bot(self) -> bool:
        return self.from_user_id is None


class CardView(models.Model):
    """What one person sees of a card after clicking it: the bot's refreshed card, or the error
    line of their last click. Cleared when the bot updates the activity for everyone."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="+")
    card = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=1000, blank=True)
    notice = models.CharField(max_length=1000, blank=True)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activity", "user"], name="sandbox_bot_card_view")
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} for {self.user_id}"
