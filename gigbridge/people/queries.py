"""Read models of people: what pages, the API and other apps ask about a person."""

from __future__ import annotations

import datetime as dt

from gigbridge.program.policy import Policy


def missing_agreements(person, policy: Policy, on: dt.date) -> list[str]:
    """The required agreements ``person`` has not signed, or whose record is revoked or expired
    by ``on``."""
    if person is None:
        return list(policy.compliance.required_agreements)
    signed = {a.name for a in person.agreements.all() if a.in_force_on(on)}
    return [name for name in policy.compliance.required_agreements if name not in signed]
