"""Required agreements that expire while an engagement runs, for its page and the API.

The periodic alert (``actions.send_agreement_expiry_alerts``) mails legal and the hiring
manager ahead of time; this says the same on the engagement itself, all the time, with the
next step (send for signature again, or record a renewed agreement) for those allowed.
"""

from __future__ import annotations

import datetime as dt

from .models import Agreement

# An engagement whose contract is over needs nothing renewed.
OVER = {"offboarding", "closed", "cancelled"}


def contract_end(engagement) -> dt.date:
    """The contract's end, or the request's planned end while there is no contract yet."""
    return engagement.contract_end or engagement.request.end_date


def expiring_during(engagement, policy=None) -> list[Agreement]:
    """Each required agreement of the engagement's freelancer, in force on the start date (one
    that is not is "missing", said elsewhere), that expires before the contract ends. The
    policy's order of names."""
    if engagement.freelancer is None or engagement.state in OVER:
        return []
    if policy is None:
        from gigbridge.program import actions as program

        policy = program.current()[1]
    required = list(policy.compliance.required_agreements)
    start = engagement.contract_start or engagement.request.start_date
    found = Agreement.objects.filter(
        person=engagement.freelancer,
        name__in=required,
        revoked_at__isnull=True,  # a revoked or replaced agreement says nothing any more
        expires_on__isnull=False,
        expires_on__gte=start,
        expires_on__lt=contract_end(engagement),  # in force on its expiry day
    )
    return sorted(found, key=lambda a: (required.index(a.name), a.expires_on))
