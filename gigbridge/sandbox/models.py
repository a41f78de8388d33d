"""The sandbox directory: one tenant's Entra ID objects and what the emulator has issued.

Secrets and one-time credentials are stored as SHA-256 hashes only. They are long random
values, so a fast hash is enough (nothing to brute-force) and lookups can go by the hash.
"""

from __future__ import annotations

import hashlib
import uuid

from django.db import models
from django.utils import timezone


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Tenant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, unique=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.domain


class AppRegistration(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="apps")
    client_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    # The app's service principal in the tenant: the ``oid`` of its app-only tokens.
    service_principal_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(max_length=200)
    secret_hash = models.CharField(max_length=64)
    # Microsoft Graph application permissions granted with admin consent (``roles``).
    application_permissions = models.JSONField(default=list)
    # Delegated permissions consented for every user (``scp`` when asking for ``.default``).
    delegated_permissions = models.JSONField(default=list)
    redirect_uris = models.JSONField(default=list)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "display_name"], name="sandbox_app_name")
        ]

    def __str__(self) -> str:
        return self.display_name


class SandboxUser(models.Model):
    class UserType(models.TextChoices):
        MEMBER = "Member"
        GUEST = "Guest"

    id = models.UUIDField("object id", primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="users")
    display_name = models.CharField(max_length=256)
    given_name = models.CharField(max_length=64, blank=True)
    surname = models.CharField(max_length=64, blank=True)
    job_title = models.CharField(max_length=128, blank=True)
    mail = models.CharField(max_length=256, blank=True)
    user_principal_name = models.CharField(max_length=256, unique=True)
    user_type = models.CharField(max_length=6, choices=UserType.choices, default=UserType.MEMBER)
    account_enabled = models.BooleanField(default=True)
    created_date_time = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.user_principal_name


class SigningKey(models.Model):
    """An RSA key that signs tokens; all are published in the JWKS, the newest signs."""

    kid = models.CharField(max_length=64, unique=True)
    private_key_pem = models.TextField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.kid


class Grant(models.Model):
    """Common part of the one-time credentials: hashed, expiring, redeemed at most once."""

    token_hash = models.CharField(max_length=64, unique=True)
    app = models.ForeignKey(AppRegistration, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="+")
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} for {self.user_id}"


class AuthorizationCode(Grant):
    redirect_uri = models.CharField(max_length=2000)
    nonce = models.CharField(max_length=512, blank=True)
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=5, blank=True)


class RefreshToken(Grant):
    pass
