"""Scenario fixtures: a real sandbox tenant over HTTPS and the product connected to it."""

from __future__ import annotations

import datetime as dt

import pytest

from .marketplace_story import Marketplace


@pytest.fixture
def graph(tenant_info, settings):
    """The product connected to the sandbox tenant; yields its Graph client."""
    from gigbridge.integrations.msgraph import connection

    authority = tenant_info["authority"].removeprefix("https://")
    host, tenant_id = authority.rsplit("/", 1)
    settings.GRAPH = {
        **settings.GRAPH,
        "tenant_id": tenant_id,
        "client_id": tenant_info["client_id"],
        "client_secret": tenant_info["client_secret"],
        "authority_host": host,
        "base_url": tenant_info["graph_base_url"],
        "ca_bundle": tenant_info["ca_cert"],
        "rate": 1000.0,
        "burst": 1000.0,
        "mail_sender": "ada@contoso.example",
    }
    connection.reset()
    yield connection.client()
    connection.reset()


@pytest.fixture
def market(tenant_info, settings, policy):
    """The product's Upwork settings pointed at the sandbox marketplace; both clocks aligned."""
    from gigbridge import clock
    from gigbridge.integrations.upwork import connection

    up = tenant_info["upwork"]
    settings.UPWORK = {
        **settings.UPWORK,
        "client_id": up["client_id"],
        "client_secret": up["client_secret"],
        "grant": "client_credentials",
        "authorize_url": up["authorize_url"],
        "token_url": up["token_url"],
        "graphql_url": up["graphql_url"],
        "organization_id": up["default_tenant_id"],
        "ca_bundle": tenant_info["ca_cert"],
        "rate": 1000.0,
        "burst": 1000.0,
        "timeout": 10,
    }
    connection.reset()
    place = Marketplace(tenant_info)
    place.control(
        throttle=None, faults={"error_rate": 0.0, "latency_ms": 0, "seed": None, "retry_after": 1}
    )
    # The root conftest started the tenant's clock on the tests' start instant (it runs on from
    # there): the product's clock is set to the same moment.
    clock.set_now(place.now())
    yield place
    # The tenant is shared by the session: put its dials back as they were (the next test sets
    # its clock).
    place.control(throttle={"rate": 10.0, "burst": 10})
    place.close()
    connection.reset()


def run_jobs(kind: str | None = None, rounds: int = 5) -> None:
    """Run queued outbox jobs in this process, as a worker would (repeat for follow-ups)."""
    from gigbridge.jobs.actions import run
    from gigbridge.jobs.models import OutboxJob

    for _ in range(rounds):
        pending = OutboxJob.objects.filter(state=OutboxJob.State.PENDING)
        if kind:
            pending = pending.filter(kind=kind)
        ids = list(pending.values_list("pk", flat=True))
        if not ids:
            return
        for job_id in ids:
            run(job_id)


def today_plus(days: int) -> dt.date:
    from gigbridge import clock

    return clock.today() + dt.timedelta(days=days)
