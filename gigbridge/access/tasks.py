"""Outbox handler: one reconcile pass for one engagement."""

from django.conf import settings

from gigbridge.jobs.errors import RetryableError
from gigbridge.jobs.registry import handler

from .actions import DRIFT_JOB, RECONCILE_JOB, reconcile
from .review import review
from .watch import EVENT_JOB, WATCH_JOB, ensure_subscriptions, handle
from .workspaces import CATALOG_JOB, WORKSPACE_JOB, provision, sync_catalog


@handler(RECONCILE_JOB)
def reconcile_job(payload: dict) -> None:
    reconcile(payload["engagement_id"])


@handler(DRIFT_JOB)
def drift_job(payload: dict) -> None:
    from gigbridge.integrations.msgraph import connection

    if connection.configured():
        sync_catalog(connection.client())  # the Teams offered for workspaces, same cadence
        review(connection.client())


@handler(WORKSPACE_JOB)
def workspace_job(payload: dict) -> None:
    from gigbridge.integrations.msgraph import connection

    if not connection.configured():
        raise RetryableError("no tenant connected", retry_after=300)
    provision(
        connection.client(), payload["workspace_id"], owner_mail=settings.GRAPH["mail_sender"] or ""
    )


@handler(CATALOG_JOB)
def catalog_job(payload: dict) -> None:
    from gigbridge.integrations.msgraph import connection

    if connection.configured():
        sync_catalog(connection.client())


@handler(WATCH_JOB)
def watch_job(payload: dict) -> None:
    from gigbridge.integrations.msgraph import connection

    if connection.configured():
        ensure_subscriptions(connection.client())


@handler(EVENT_JOB)
def graph_event_job(payload: dict) -> None:
    from gigbridge.integrations.msgraph import connection

    if not connection.configured():
        raise RetryableError("no tenant connected", retry_after=300)
    handle(connection.client(), payload["inbox_id"])
