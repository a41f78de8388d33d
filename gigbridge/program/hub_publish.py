"""The outbox job that publishes the hub as one SharePoint site page (``program.hub.publish``).

Check-then-act, so a retry after any failure does the right thing:

1. the publication row says which revision is wanted; a job for an older one does nothing;
2. the page is the row's ``page_id``, else the site's page of that file name (a create whose
   answer was lost left one), else it is created (a draft);
3. a page found is PATCHed with the title and content (the same page: its id and address stay);
4. the draft is published (publishing twice changes nothing), and the row records the page's
   ``webUrl`` and when.

Graph's typed errors decide the rest: a retryable one (throttled, unavailable, timed out) is
noted on the row and raised so the outbox tries again later; a permanent one (no such site,
no permission, a body Graph refused) marks the row failed with its reason and ends the job.
"""

from __future__ import annotations

import logging

from django.db import transaction

from gigbridge import clock
from gigbridge.audit.actions import record
from gigbridge.integrations.msgraph import pages
from gigbridge.integrations.msgraph.client import GraphClient
from gigbridge.integrations.msgraph.errors import (
    Forbidden,
    NotFound,
    PermanentGraphError,
    RetryableGraphError,
)
from gigbridge.jobs.errors import PermanentError, RetryableError

from .models import HubPublication

log = logging.getLogger(__name__)
ACTOR = "hub publisher"


def _graph() -> GraphClient:
    from gigbridge.integrations.msgraph import connection

    return connection.client()


def _why(error: PermanentGraphError) -> str:
    if isinstance(error, NotFound):
        return (
            "SharePoint has no such site or page: check GIGBRIDGE_HUB_SITE_ID (the site's Graph "
            f"id). Graph said: {error.message}"
        )
    if isinstance(error, Forbidden):
        return (
            "Gigbridge may not write to the site: grant its app the application permission "
            f"Sites.ReadWrite.All (docs/hub.md). Graph said: {error.message}"
        )
    return f"Graph refused the page ({error.status} {error.code}): {error.message}"


def _current(revision: int) -> HubPublication | None:
    row = HubPublication.objects.filter(pk=1).first()
    if row is None or row.revision != revision or row.state != HubPublication.State.QUEUED:
        return None
    return row


def _finish(row: HubPublication, **fields) -> None:
    """Record the outcome, unless a newer request took the row meanwhile."""
    with transaction.atomic():
        updated = HubPublication.objects.filter(pk=1, revision=row.revision).update(**fields)
        if updated and fields.get("state") in (
            HubPublication.State.PUBLISHED,
            HubPublication.State.FAILED,
        ):
            record(
                user=None,
                actor=ACTOR,
                action=(
                    "hub.published"
                    if fields["state"] == HubPublication.State.PUBLISHED
                    else "hub.publish_failed"
                ),
                obj=row,
                after={
                    "revision": row.revision,
                    "page_id": fields.get("page_id", row.page_id),
                    "web_url": fields.get("web_url", ""),
                    "reason": fields.get("reason", ""),
                },
            )


def _sections(row: HubPublication) -> list[pages.Section]:
    return [pages.Section(str(s["key"]), str(s["html"])) for s in row.sections]


def run_publish(revision: int, client: GraphClient | None = None) -> str:
    row = _current(revision)
    if row is None:
        return "superseded or done"
    client = client or _graph()
    try:
        pages.get_site(client, row.site_id)
        page = pages.page_or_none(client, row.site_id, row.page_id) if row.page_id else None
        if page is None:
            page = pages.find_page(client, row.site_id, row.page_name)
        if page is None:
            page = pages.create_page(client, row.site_id, row.page_name, row.title, _sections(row))
        else:
            pages.update_page(client, row.site_id, page["id"], row.title, _sections(row))
        page_id = str(page["id"])
        # Keep the id at once: a failure from here on updates this page next time.
        HubPublication.objects.filter(pk=1, revision=row.revision).update(page_id=page_id)
        pages.publish_page(client, row.site_id, page_id)
        web_url = str(page.get("webUrl") or "")
    except RetryableGraphError as error:
        HubPublication.objects.filter(pk=1, revision=row.revision).update(
            reason=f"will try again: {error.message or error.code}"[:1000]
        )
        raise RetryableError(str(error), error.retry_after) from None
    except PermanentGraphError as error:
        reason = _why(error)[:1000]
        _finish(row, state=HubPublication.State.FAILED, reason=reason)
        raise PermanentError(reason) from None
    _finish(
        row,
        state=HubPublication.State.PUBLISHED,
        page_id=page_id,
        web_url=web_url[:2000],
        reason="",
        published_at=clock.now(),
    )
    log.info("hub revision %s published as page %s", row.revision, page_id)
    return "published"
