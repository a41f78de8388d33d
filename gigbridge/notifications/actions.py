"""Telling people things where they already are. Today by mail; Outlook via Graph once a tenant is
connected. Callers only say who, which template and which facts; rendering happens at send time."""

from __future__ import annotations

from gigbridge.jobs import actions as jobs

MAIL_JOB = "mail.send"


def mail(user, template: str, context: dict, key: str) -> None:
    """Queue one mail to ``user`` (after commit). ``key`` makes the same notice idempotent."""
    if not user.email:
        return
    jobs.enqueue(
        MAIL_JOB,
        {"user_id": user.pk, "template": template, "context": context},
        key=f"mail:{template}:{user.pk}:{key}",
    )


def mail_address(email: str, template: str, context: dict, key: str) -> None:
    """Queue one mail to someone without an account (a freelancer), by address."""
    if not email:
        return
    jobs.enqueue(
        MAIL_JOB,
        {"to": email, "template": template, "context": context},
        key=f"mail:{template}:{key}",
    )
