"""What a program admin does to the hub: edit its introduction, publish it to SharePoint.

One transaction and one audit event each; the publication itself is an outbox job
(``hub_publish``), queued after commit: nothing here talks to Microsoft 365.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from gigbridge import clock
from gigbridge.audit.actions import record
from gigbridge.domainerrors import NotAllowed
from gigbridge.jobs import actions as jobs

from .hub_markdown import MAX_INTRO
from .models import HubIntro, HubPublication

PUBLISH_JOB = "program.hub.publish"
MAX_TITLE = 255


class HubError(ValueError):
    """A request the hub cannot take, with a message for the person who made it."""


def intro() -> HubIntro:
    return HubIntro.objects.filter(pk=1).first() or HubIntro(pk=1)


def publication() -> HubPublication | None:
    return HubPublication.objects.filter(pk=1).first()


def save_intro(user, markdown: str, *, allowed: bool) -> HubIntro:
    """Store the introduction. ``allowed``: the caller checked ``can_edit_hub`` (people's
    capability, which this layer cannot import)."""
    if not allowed:
        raise NotAllowed("only a program admin can edit or publish the program hub")
    markdown = (markdown or "").replace("\r\n", "\n")
    if len(markdown) > MAX_INTRO:
        raise HubError(
            f"The introduction has {len(markdown):,} characters; at most {MAX_INTRO:,} fit."
        )
    with transaction.atomic():
        row = HubIntro.objects.select_for_update().filter(pk=1).first() or HubIntro(pk=1)
        before = {"characters": len(row.markdown)} if row.pk and row.updated_at else None
        row.markdown = markdown
        row.updated_by = user.get_username()
        row.updated_at = clock.now()
        row.save()
        record(
            user=user,
            action="hub.intro_edited",
            obj=row,
            before=before,
            after={"characters": len(markdown)},
        )
    return row


def request_publish(user, title: str, sections: list[dict], *, allowed: bool) -> HubPublication:
    """Queue the publication of ``sections`` ([{"key", "html"}], already sanitised) as the hub
    page of the configured site. A newer request supersedes a queued one."""
    if not allowed:
        raise NotAllowed("only a program admin can edit or publish the program hub")
    site_id = settings.HUB["site_id"]
    if not site_id:
        raise HubError(
            "No SharePoint site is set for the hub: set GIGBRIDGE_HUB_SITE_ID to the site's "
            "Graph id (docs/hub.md says how to find it) and restart Gigbridge."
        )
    now = clock.now()
    with transaction.atomic():
        row = HubPublication.objects.select_for_update().filter(pk=1).first()
        before = {"revision": row.revision, "state": row.state} if row else None
        if row is None:
            row = HubPublication(pk=1, revision=0)
        if row.site_id and row.site_id != site_id:
            row.page_id = ""  # another site: its page is made there
            row.web_url = ""
        row.site_id = site_id
        row.page_name = settings.HUB["page_name"]
        row.title = title[:MAX_TITLE]
        row.sections = sections
        row.revision += 1
        row.state = HubPublication.State.QUEUED
        row.reason = ""
        row.requested_by = user.get_username()
        row.requested_at = now
        row.save()
        record(
            user=user,
            action="hub.publish_requested",
            obj=row,
            before=before,
            after={"revision": row.revision, "site_id": site_id, "page": row.page_name},
        )
        jobs.enqueue(
            PUBLISH_JOB,
            {"revision": row.revision},
            key=f"hub.publish:{row.revision}:{now.isoformat()}",
        )
    return row
