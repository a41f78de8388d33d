"""Request bodies Graph would refuse get 400, judged by Microsoft's metadata (``conformance``).

One leniency over ``conformance``: Graph itself matches enum members in requests without regard
to case (its own examples send ``"contentType": "HTML"``), so the sandbox does too. (The tests
of the product's client stay strict and make it send the spelling Graph answers with.)
"""

from __future__ import annotations

import re

from gigbridge.integrations.msgraph import conformance

from .errors import bad_request

_ENUM_PROBLEM = re.compile(r"expected \S+, got '([^']*)' \(members: ([^)]*)\)$")


def _real(problems: list[str]) -> list[str]:
    kept = []
    for problem in problems:
        found = _ENUM_PROBLEM.search(problem)
        if found:
            members = {m.strip().lower() for m in found.group(2).split(",")}
            given = [part.strip().lower() for part in found.group(1).split(",")]
            if all(part in members for part in given):
                continue
        kept.append(problem)
    return kept


def check(type_name: str, body: dict, code: str = "BadRequest") -> None:
    problems = _real(conformance.validate(type_name, body, direction="request"))
    if problems:
        raise bad_request(f"Invalid request body: {problems[0]}", code=code)


def check_action(binding: str, action: str, body: dict, code: str = "BadRequest") -> None:
    problems = _real(conformance.validate_action(binding, action, body))
    if problems:
        raise bad_request(f"Invalid request body: {problems[0]}", code=code)
