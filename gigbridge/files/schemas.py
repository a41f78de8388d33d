"""API shapes of deliverables (the pages show the same facts)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from gigbridge import limits
from gigbridge.api.inputs import InputSchema

from . import queries
from .models import Deliverable


class DeliverableOut(Schema):
    id: int
    engagement_id: int
    engagement: str = Field(description="the engagement's reference, EN-…")
    file: str = Field(description="the file's name")
    folder: str = Field(description="its folder below the drive's root")
    version: str = Field(description="Graph's driveItemVersion id")
    size: int = Field(description="bytes")
    size_text: str = Field(description="the size as people read it (KB, MB, GB)")
    sha256: str = Field(description="of the bytes scanned; empty until scanned")
    author: str = Field(description="the guest who added the version")
    author_email: str
    added_at: dt.datetime
    verdict: str = Field(description="pending, clean, infected, too_large or failed")
    verdict_label: str
    signature: str = Field(description="what the scanner found (infected files)")
    scanner: str = Field(description="scanner engine and signature database version")
    scanned_at: dt.datetime | None
    state: str = Field(description="available, quarantining, quarantined, releasing or released")
    state_label: str
    blocked: bool = Field(description="out of people's reach or not to be trusted as delivered")
    answers: str = Field(description="the request deliverable (Planner task) it answers")
    planner_task_id: str
    open_url: str | None = Field(
        description="the file in SharePoint; only while it is in the folder and not blocked"
    )
    quarantine_error: str
    released_by: str | None
    released_at: dt.datetime | None
    release_reason: str

    @staticmethod
    def of(d: Deliverable) -> dict:
        released_by = None
        if d.released_by_id:
            released_by = d.released_by.get_full_name() or d.released_by.get_username()
        return {
            "id": d.pk,
            "engagement_id": d.engagement_id,
            "engagement": d.engagement.reference,
            "file": d.name,
            "folder": d.folder_path,
            "version": d.version_id,
            "size": d.size,
            "size_text": queries.size_text(d.size),
            "sha256": d.sha256,
            "author": d.author_name or d.author_email,
            "author_email": d.author_email,
            "added_at": d.added_at,
            "verdict": d.verdict,
            "verdict_label": d.get_verdict_display(),
            "signature": d.signature,
            "scanner": d.scanner_version,
            "scanned_at": d.scanned_at,
            "state": d.state,
            "state_label": d.get_state_display(),
            "blocked": d.blocked,
            "answers": d.deliverable_title,
            "planner_task_id": d.planner_task_id,
            "open_url": d.web_url if queries.openable(d) else None,
            "quarantine_error": d.quarantine_error,
            "released_by": released_by,
            "released_at": d.released_at,
            "release_reason": d.release_reason,
        }


class ReleaseIn(InputSchema):
    reason: limits.Reason = Field(
        description="why the file may go back to the project folder (required, 1 to 1000 "
        "characters)"
    )
