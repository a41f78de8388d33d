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

    # Computed from the row (ninja's resolvers), so a page of rows is read, never all of them.
    @staticmethod
    def resolve_engagement(d: Deliverable) -> str:
        return d.engagement.reference

    @staticmethod
    def resolve_file(d: Deliverable) -> str:
        return d.name

    @staticmethod
    def resolve_folder(d: Deliverable) -> str:
        return d.folder_path

    @staticmethod
    def resolve_version(d: Deliverable) -> str:
        return d.version_id

    @staticmethod
    def resolve_size_text(d: Deliverable) -> str:
        return queries.size_text(d.size)

    @staticmethod
    def resolve_author(d: Deliverable) -> str:
        return d.author_name or d.author_email

    @staticmethod
    def resolve_verdict_label(d: Deliverable) -> str:
        return d.get_verdict_display()

    @staticmethod
    def resolve_scanner(d: Deliverable) -> str:
        return d.scanner_version

    @staticmethod
    def resolve_state_label(d: Deliverable) -> str:
        return d.get_state_display()

    @staticmethod
    def resolve_answers(d: Deliverable) -> str:
        return d.deliverable_title

    @staticmethod
    def resolve_open_url(d: Deliverable) -> str | None:
        return d.web_url if queries.openable(d) else None

    @staticmethod
    def resolve_released_by(d: Deliverable) -> str | None:
        if not d.released_by_id:
            return None
        return d.released_by.get_full_name() or d.released_by.get_username()


class ReleaseIn(InputSchema):
    reason: limits.Reason = Field(
        description="why the file may go back to the project folder (required, 1 to 1000 "
        "characters)"
    )
