"""Bounds on every value a person or a client sends: one place for the API schemas, the web
forms and the actions, so the three cannot drift apart (docs/api.md, "Limits").

Each bound is an annotated type. Schemas use them as field types (pydantic then answers 422
naming the field); forms use ``form_validator``; actions use ``violations`` on values that may
reach them another way, so nothing out of bounds is stored or sent to the marketplace.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

from django.core.exceptions import ValidationError as FormError
from django.core.validators import validate_email
from pydantic import AfterValidator, Field, StringConstraints, TypeAdapter, ValidationError

from gigbridge import clock

# Money in any currency (budgets in yen are large numbers) with room below DecimalField(14, 2)
# (999,999,999,999.99), so that sums and rate x hours x weeks still fit.
MONEY_MAX = Decimal("1000000000.00")
HOURLY_RATE_MAX = Decimal("10000.00")  # in the marketplace's currency (USD)
WEEKLY_HOURS_MAX = 80
# Dates: not before 2000, at most the end of the year twenty years ahead, so that the longest
# engagement a policy may allow (3,650 days) can start up to ten years ahead; keeps every date
# plus any policy period (grace, cooling-off, fiscal year) far from year 9999.
DATE_MIN = dt.date(2000, 1, 1)
PLAN_YEARS_AHEAD = 20
TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
DELIVERABLES_MAX = 50
DELIVERABLE_MAX = 255  # each becomes a Planner task, whose title Graph caps at 255
SKILLS_MAX = 30
SKILL_MAX = 100
EMAIL_MAX = 254
NAME_MAX = 200  # names: workspaces, actors
CODE_MAX = 100  # codes and ids: cost centers, categories, states, audit actions, profile keys
PATH_MAX = 500
SEARCH_MAX = 200
COMMENT_MAX = 5000  # approval comments, offer and invitation messages
REASON_MAX = 2000
PAGE_LIMIT_MAX = 100
PAGE_OFFSET_MAX = 1_000_000
URL_MAX = 500  # evidence links (people.Agreement.evidence_url)
EVIDENCE_FILE_MAX = 10 * 1024 * 1024  # an uploaded signed agreement (people.Agreement)
EVIDENCE_FILE_TYPES = ("pdf", "png", "jpg", "jpeg")
AGREEMENT_NAME_MAX = 50  # people.Agreement.name; the policy's names have the same bound
AUDIT_TEXT_MAX = 2000  # longer texts are recorded in an audit event by prefix, length and hash


def latest_plan_date() -> dt.date:
    return dt.date(clock.today().year + PLAN_YEARS_AHEAD, 12, 31)


def _in_plan_window(value: dt.date) -> dt.date:
    last = latest_plan_date()
    if not DATE_MIN <= value <= last:
        raise ValueError(f"must be between {DATE_MIN} and {last}")
    return value


def _email(value: str) -> str:
    if value:
        try:
            validate_email(value)  # the same check as the web form's EmailField
        except FormError:
            raise ValueError("is not an email address") from None
    return value


def _http_url(value: str) -> str:
    if value and not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", value):
        raise ValueError("must be an http:// or https:// address")
    return value


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000 (a 500 on insert); the API refuses it in the body, and
    # this refuses it wherever a bound is checked, web forms included.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


def _text(min_length: int = 0, max_length: int = 0) -> Any:
    """A bounded text without NUL."""
    return Annotated[
        str,
        StringConstraints(min_length=min_length or None, max_length=max_length),
        AfterValidator(_no_nul),
    ]


Money = Annotated[Decimal, Field(gt=0, le=MONEY_MAX, max_digits=14, decimal_places=2)]
HourlyRate = Annotated[Decimal, Field(gt=0, le=HOURLY_RATE_MAX, max_digits=8, decimal_places=2)]
WeeklyHours = Annotated[int, Field(ge=1, le=WEEKLY_HOURS_MAX)]
PlanDate = Annotated[dt.date, AfterValidator(_in_plan_window)]
Title = _text(3, TITLE_MAX)
Description = _text(1, DESCRIPTION_MAX)
Deliverables = Annotated[list[_text(0, DELIVERABLE_MAX)], Field(max_length=DELIVERABLES_MAX)]
Skills = Annotated[list[_text(0, SKILL_MAX)], Field(max_length=SKILLS_MAX)]
Email = Annotated[_text(0, EMAIL_MAX), AfterValidator(_email)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")]
Country = Annotated[str, StringConstraints(pattern=r"^([A-Za-z]{2})?$")]
Code = _text(0, CODE_MAX)
RequiredCode = _text(1, CODE_MAX)
Name = _text(0, NAME_MAX)
RequiredName = _text(1, NAME_MAX)
Path = _text(0, PATH_MAX)
Search = _text(0, SEARCH_MAX)
Comment = _text(0, COMMENT_MAX)
RequiredComment = _text(1, COMMENT_MAX)
Reason = _text(0, REASON_MAX)
RequiredReason = _text(1, REASON_MAX)
Url = Annotated[_text(0, URL_MAX), AfterValidator(_http_url)]
AgreementName = _text(1, AGREEMENT_NAME_MAX)
PageLimit = Annotated[int, Field(ge=1, le=PAGE_LIMIT_MAX)]
PageOffset = Annotated[int, Field(ge=0, le=PAGE_OFFSET_MAX)]

# The bounded fields of a work request, checked again by the actions (see engagements.schemas
# RequestIn, which declares the same types).
REQUEST_FIELDS: dict[str, Any] = {
    "title": Title,
    "description": Description,
    "deliverables": Deliverables,
    "skills": Skills,
    "task_category": Code,
    "worker_category": Code,
    "budget": Money,
    "currency": Currency,
    "start_date": PlanDate,
    "end_date": PlanDate,
    "freelancer_email": Email,
    "freelancer_country": Country,
}
# What recording an agreement signed elsewhere takes (people.actions.record_agreement).
AGREEMENT_FIELDS: dict[str, Any] = {
    "email": Email,
    "name": AgreementName,
    "display_name": Name,
    "signed_on": PlanDate,
    "expires_on": PlanDate,
    "evidence_url": Url,
}
# What an offer to a freelancer may say (marketplace.pick).
OFFER_FIELDS: dict[str, Any] = {
    "amount": Money,
    "hourly_rate": HourlyRate,
    "weekly_hours": WeeklyHours,
    "message": Comment,
}


@cache
def _adapter(kind) -> TypeAdapter:
    return TypeAdapter(kind)


def _messages(error: ValidationError) -> list[str]:
    out = []
    for e in error.errors():
        where = ".".join(str(p) for p in e["loc"])
        # List items are named by position from 1, as a person counts lines.
        prefix = f"item {int(where) + 1}: " if where.isdigit() else (f"{where}: " if where else "")
        out.append(prefix + e["msg"].removeprefix("Value error, "))
    return out


def violations(values: dict, kinds: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for each value in ``values`` outside the bound of its field in
    ``kinds``; ``None`` and fields without a bound are not checked."""
    found = []
    for field, value in values.items():
        if value is None or field not in kinds:
            continue
        try:
            _adapter(kinds[field]).validate_python(value)
        except ValidationError as error:
            found += [(field, message) for message in _messages(error)]
    return found


def form_validator(kind):
    """A Django form field validator that applies the same bound as the API."""

    def validate(value):
        try:
            _adapter(kind).validate_python(value)
        except ValidationError as error:
            raise FormError(_messages(error)) from None

    return validate


def audit_value(value):
    """A value as an audit event records it: texts longer than AUDIT_TEXT_MAX by their start,
    length and SHA-256, so an event stays small and still proves what was written."""
    if isinstance(value, str) and len(value) > AUDIT_TEXT_MAX:
        digest = hashlib.sha256(value.encode()).hexdigest()
        return f"{value[:200]}… ({len(value)} characters, sha256 {digest})"
    if isinstance(value, list):
        return [audit_value(v) for v in value]
    return value
