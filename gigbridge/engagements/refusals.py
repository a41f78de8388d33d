"""A durable trace of the program's rules refusing something: a submission, an offer or a
contract start. The refusal itself raises RuleViolation and rolls its transaction back, so the
trace is written after it, in a transaction of its own: one audit event
``compliance.refused`` per policy rule that refused (analytics counts them by rule; auditors see
who tried what). Problems that name no policy rule (a missing field) are input errors, not
refusals, and leave no trace.

Nested refusing operations (a direct hire's start calls the engagement transition) record once,
at the outermost one. A caller that runs the operation inside its own transaction and lets the
exception roll that back loses the trace with it: such a caller records it itself (the
marketplace sync does, beside ``marketplace.contract_blocked``).
"""

from __future__ import annotations

import functools
import threading

from django.db import transaction

from gigbridge.audit.actions import record
from gigbridge.domainerrors import Problem, RuleViolation

ACTION = "compliance.refused"
_depth = threading.local()


def record_refusals(user, request, problems: list[Problem], where: str) -> int:
    """One ``compliance.refused`` event per policy rule among ``problems``, on ``request``."""
    rules = sorted({p.rule for p in problems if p.rule})
    with transaction.atomic():
        for rule in rules:
            record(
                user=user,
                action=ACTION,
                obj=request,
                object_type="workrequest",
                after={
                    "where": where,
                    "request": request.reference,
                    "problems": [str(p)[:300] for p in problems if p.rule == rule],
                },
                rule=rule[:100],
            )
    return len(rules)


def recorded(where: str, subject):
    """Decorate an operation that may refuse: ``subject(*args, **kwargs)`` gives (user, the
    work request) or None when this call refuses nothing of interest."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            outermost = not getattr(_depth, "value", 0)
            _depth.value = getattr(_depth, "value", 0) + 1
            try:
                return function(*args, **kwargs)
            except RuleViolation as refusal:
                found = subject(*args, **kwargs) if outermost else None
                if found is not None:
                    user, request = found
                    record_refusals(user, request, refusal.problems, where)
                raise
            finally:
                _depth.value -= 1

        return wrapper

    return decorate
