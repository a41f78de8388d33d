"""People operations: roles, delegations and API tokens."""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet

from gigbridge import clock, limits
from gigbridge.audit.actions import record

from .models import ApiToken, Delegation, Role, RoleAssignment


def roles_of(user) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_gigbridge_roles", None)
    if cached is None:
        cached = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
        user._gigbridge_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def users_with_role(role: str) -> QuerySet:
    return get_user_model().objects.filter(role_assignments__role=role, is_active=True)


def delegators_of(user, on: dt.date | None = None) -> list[int]:
    """Users whose approvals ``user`` may decide today because they delegated to ``user``."""
    on = on or clock.today()
    return list(
        Delegation.objects.filter(delegate=user, starts_on__lte=on, ends_on__gte=on).values_list(
            "delegator_id", flat=True
        )
    )


def active_delegate(user, on: dt.date | None = None):
    on = on or clock.today()
    delegation = (
        Delegation.objects.filter(delegator=user, starts_on__lte=on, ends_on__gte=on)
        .select_related("delegate")
        .order_by("-created_at")
        .first()
    )
    return delegation.delegate if delegation else None


@transaction.atomic
def grant_role(user, role: str, *, by=None) -> RoleAssignment:
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(Role.values)}")
    assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role)
    if created:
        record(
            user=by,
            action="role.granted",
            obj=user,
            object_type="user",
            after={"user": user.get_username(), "role": role},
        )
    return assignment


@transaction.atomic
def set_delegation(delegator, delegate, starts_on: dt.date, ends_on: dt.date) -> Delegation:
    if delegate == delegator:
        raise ValueError("you cannot delegate to yourself")
    if ends_on < starts_on:
        raise ValueError("the delegation must end on or after its first day")
    bounds = limits.violations(
        {"starts_on": starts_on, "ends_on": ends_on},
        {"starts_on": limits.PlanDate, "ends_on": limits.PlanDate},
    )
    if bounds:
        raise ValueError("; ".join(f"{field}: {message}" for field, message in bounds))
    delegation = Delegation.objects.create(
        delegator=delegator, delegate=delegate, starts_on=starts_on, ends_on=ends_on
    )
    record(
        user=delegator,
        action="delegation.created",
        obj=delegation,
        after={"delegate": delegate.get_username(), "starts_on": starts_on, "ends_on": ends_on},
    )
    return delegation


@transaction.atomic
def create_api_token(user, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the secret, which is never stored and shown only now."""
    secret = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100] or "token", token_hash=ApiToken.hash(secret), hint=secret[:10]
    )
    record(
        user=user,
        action="api_token.created",
        obj=token,
        after={"name": token.name, "hint": token.hint},
    )
    return token, secret


@transaction.atomic
def revoke_api_token(token: ApiToken, *, by) -> None:
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        record(user=by, action="api_token.revoked", obj=token, after={"hint": token.hint})


def user_for_token(secret: str):
    if not secret.startswith(ApiToken.PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=ApiToken.hash(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = clock.now()
    # Touch at most once a minute so a busy client does not turn every read into a write.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def search_users(term: str, limit: int = 20) -> QuerySet:
    return get_user_model().objects.filter(
        Q(username__icontains=term)
        | Q(email__icontains=term)
        | Q(first_name__icontains=term)
        | Q(last_name__icontains=term),
        is_active=True,
    )[:limit]
