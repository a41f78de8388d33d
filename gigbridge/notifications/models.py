from django.conf import settings
from django.db import models


class TeamsCard(models.Model):
    """One card the bot sent to one person, kept so that every copy can be updated in place
    when what it asks about is settled (``subject``: ``"step:<approval step id>"``)."""

    notice_key = models.CharField(max_length=255, unique=True)  # the Teams job's key: sent once
    subject = models.CharField(max_length=100, db_index=True, blank=True)
    template = models.CharField(max_length=50)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="teams_cards"
    )
    conversation_id = models.CharField(max_length=500)
    activity_id = models.CharField(max_length=200)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.template} to {self.user_id} ({self.subject or '-'})"
