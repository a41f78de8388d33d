"""Outbox handler: one reconcile pass for one engagement."""

from gigbridge.jobs.errors import RetryableError
from gigbridge.jobs.registry import handler

from .actions import DRIFT_JOB, RECONCILE_JOB, reconcile
from .workspaces import CATALOG_JOB, WORKSPACE_JOB, provision, sync_catalog


@handler(RECONCILE_JOB)
def reconcile_job(payload: dict) -> None:
    reconcile(payload["engagement_id"])


@handler(DRIFT_JOB)
def drift_job(payload: dict) -> None:
    from gigbridge.integrations.msgraph import connection

    from .review import review

    if connection.configured():
        sync_catalog(connection.client())  # the Teams offered for workspaces, same cadence
        review(connection.client())


@handler(WORKSPACE_JOB)
def workspace_job(payload: dict) -> None:
    from django.conf import settings

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
