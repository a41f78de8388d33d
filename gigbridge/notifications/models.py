from django.conf import settings
from django.db import models


class TeamsCard(models.Model):
    """One card the bot sent to one person, kept so that every copy can be updated in place
    when what it asks about is settled (``subject``: ``"step:<approval step id>"``)."""

    class State(models.TextChoices):
        SENDING = "sending"  # intent recorded before Teams is called; no id yet
        SENT = "sent"  # Teams answered with the ids: updated in place when settled
        UNKNOWN = "unknown"  # an attempt died mid-send: no second card, the mail went instead
        GONE = "gone"  # Teams answered 404 to an update (deleted): not updated again

    notice_key = models.CharField(max_length=255, unique=True)  # the Teams job's key: sent once
    state = models.CharField(max_length=10, choices=State.choices, default=State.SENT)
    subject = models.CharField(max_length=100, db_index=True, blank=True)
    template = models.CharField(max_length=50)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="teams_cards"
    )
    conversation_id = models.CharField(max_length=500, blank=True)
    activity_id = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.template} to {self.user_id} ({self.subject or '-'})"
