"""Errors every domain app raises, each naming what is wrong, where, and the policy rule behind
it. Below every app (program, people, engagements, sourcing and access raise them; the API and
the web answer them), so that raising one imports no app."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied


@dataclass(frozen=True)
class Problem:
    field: str  # the input field at fault ("" for the request as a whole)
    message: str
    rule: str = ""  # the policy rule (dotted path in program.yaml) that says so

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        rule = f" [policy rule {self.rule}]" if self.rule else ""
        return f"{where}{self.message}{rule}"


class RuleViolation(Exception):
    """The input breaks one or more program rules; ``problems`` lists each of them."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class InvalidTransition(Exception):
    """The object is not in a state that allows this operation."""


class NotAllowed(PermissionDenied):
    """The user may not do this (HTTP 403 in the API, and in the web through Django's own
    PermissionDenied handling); the attempt goes to the security log."""
