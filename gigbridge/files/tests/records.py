"""Deliverable rows written as the files app records them (the delta pass, the scan and the
quarantine jobs), for the tests of one rule or page."""

from __future__ import annotations

from gigbridge import clock
from gigbridge.files.models import Deliverable

Verdict, State = Deliverable.Verdict, Deliverable.State


def deliverable(engagement, name="logo.svg", version="1.0", **fields) -> Deliverable:
    """One recorded version, as the delta pass writes it (clean and in the folder by default)."""
    defaults = {
        "drive_id": "b!drive",
        "item_id": f"item-{name}",
        "folder_path": "Brand refresh",
        "web_url": f"https://contoso.sharepoint.example/sites/brand/{name}",
        "size": 14_540,
        "author_id": "guest-1",
        "author_name": "Ana Freelance",
        "author_email": "ana@freelance.example",
        "added_at": clock.now(),
        "recorded_at": clock.now(),
        "verdict": Verdict.CLEAN,
        "sha256": "ab" * 32,
        "scanned_at": clock.now(),
        "scanner_version": "ClamAV 1.4.3/1/2026-12-01",
    }
    defaults.update(fields)
    return Deliverable.objects.create(
        engagement=engagement, name=name, version_id=version, **defaults
    )


def quarantined(engagement, name="invoice.exe", **fields) -> Deliverable:
    """An infected version taken out of reach (quarantine done)."""
    values = {
        "verdict": Verdict.INFECTED,
        "signature": "Eicar-Test-Signature",
        "state": State.QUARANTINED,
        "quarantined_at": clock.now(),
        "quarantine_drive_id": "b!quarantine",
        "quarantine_item_id": "q-1",
        **fields,
    }
    return deliverable(engagement, name=name, **values)
