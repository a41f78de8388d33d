"""One Upwork connection per organization: encrypted tokens, expiry and state.

``organization_id`` is the Upwork organization (sent as ``X-Upwork-API-TenantId``); the empty
string is the connecting user's default organization. Tokens are stored only encrypted
(``crypto``); read and write them through ``access_token`` / ``refresh_token``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from . import crypto


class UpworkConnection(models.Model):
    class State(models.TextChoices):
        CONNECTED = "connected"
        NEEDS_RECONNECT = "needs_reconnect"

    class Grant(models.TextChoices):
        AUTHORIZATION_CODE = "authorization_code"
        CLIENT_CREDENTIALS = "client_credentials"

    organization_id = models.CharField(max_length=100, unique=True, blank=True)
    organization_name = models.CharField(max_length=200, blank=True)
    grant_type = models.CharField(
        max_length=30, choices=Grant.choices, default=Grant.AUTHORIZATION_CODE
    )
    access_token_encrypted = models.TextField(blank=True)
    refresh_token_encrypted = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    scope = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.NEEDS_RECONNECT)
    reason = models.TextField(blank=True, help_text="Why an admin must connect Upwork again")
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Upwork connection"

    def __str__(self) -> str:
        return f"Upwork {self.organization_id or '(default organization)'}: {self.state}"

    @property
    def access_token(self) -> str:
        return crypto.decrypt(self.access_token_encrypted)

    @access_token.setter
    def access_token(self, value: str) -> None:
        self.access_token_encrypted = crypto.encrypt(value)

    @property
    def refresh_token(self) -> str:
        return crypto.decrypt(self.refresh_token_encrypted)

    @refresh_token.setter
    def refresh_token(self, value: str) -> None:
        self.refresh_token_encrypted = crypto.encrypt(value)

    @property
    def connected(self) -> bool:
        return self.state == self.State.CONNECTED

    def expires_within(self, now: dt.datetime, margin: float) -> bool:
        """True when the access token is missing or expires within ``margin`` seconds."""
        if not self.access_token_encrypted:
            return True
        if self.expires_at is None:
            return False
        return self.expires_at - dt.timedelta(seconds=margin) <= now
