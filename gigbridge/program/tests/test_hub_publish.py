"""The hub's publication job against the sandbox tenant's Graph (its "Contoso Intranet" site):
a page is created and published, publishing again updates the same page, a create whose answer
was lost is found by name, and a failure is recorded with its reason."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import httpx
import pytest

from gigbridge.jobs.errors import PermanentError, RetryableError
from gigbridge.program import hub_actions, hub_publish
from gigbridge.program.models import HubPublication

pytestmark = pytest.mark.django_db


@pytest.fixture
def graph_client(tenant_info):
    from gigbridge.sandbox.tests.files_support import product_client, token_provider

    problems: list[str] = []
    with product_client(tenant_info, token_provider(tenant_info), problems) as client:
        yield client
    assert problems == []  # every body sent and received conforms to Graph's metadata


@pytest.fixture
def hub_site(settings, tenant_info, people):
    settings.HUB = {
        "site_id": tenant_info["hub_site_id"],
        "page_name": f"hub-{uuid.uuid4().hex[:12]}.aspx",  # the tenant outlives each test
    }
    return settings.HUB


def sections(text: str) -> list[dict]:
    return [{"key": "intro", "html": f"<p>{text}</p>"}, {"key": "faq", "html": "<h2>FAQ</h2>"}]


def request(people, text: str) -> HubPublication:
    return hub_actions.request_publish(people["ada"], "Freelance program", sections(text),
                                       allowed=True)  # fmt: skip


def viewer(tenant_info, url: str) -> str:
    from gigbridge.sandbox.client import ssl_context_from

    with httpx.Client(verify=ssl_context_from(tenant_info["ca_cert"]), timeout=10) as http:
        answer = http.get(url)
    assert answer.status_code == 200
    return answer.text


def test_publish_then_publish_again_updates_the_same_page(hub_site, people, graph_client,
                                                           tenant_info):  # fmt: skip
    request(people, "First version")
    assert hub_publish.run_publish(1, client=graph_client) == "published"
    row = HubPublication.objects.get()
    assert row.state == "published" and row.page_id and row.published_at
    assert row.web_url.endswith(f"/sites/intranet/SitePages/{hub_site['page_name']}")
    assert "First version" in viewer(tenant_info, row.web_url)
    first_page = row.page_id

    request(people, "Second version")
    assert hub_publish.run_publish(1, client=graph_client) == "superseded or done"
    assert hub_publish.run_publish(2, client=graph_client) == "published"
    row.refresh_from_db()
    assert row.page_id == first_page and row.revision == 2
    shown = viewer(tenant_info, row.web_url)
    assert "Second version" in shown and "First version" not in shown

    # Exactly one page of that name in the site.
    from gigbridge.integrations.msgraph import pages

    listed = [p for p in graph_client.iterate(
        f"/sites/{quote(hub_site['site_id'], safe='')}/pages", type_name="baseSitePage")
        if p["name"] == hub_site["page_name"]]  # fmt: skip
    assert len(listed) == 1
    page = pages.get_page(graph_client, hub_site["site_id"], first_page)
    assert page["publishingState"]["level"] == "published"


def test_a_lost_create_is_found_by_name(hub_site, people, graph_client):
    from gigbridge.integrations.msgraph import pages

    made = pages.create_page(graph_client, hub_site["site_id"], hub_site["page_name"], "Old",
                             [pages.Section("a", "<p>made before</p>")])  # fmt: skip
    request(people, "After a lost answer")
    hub_publish.run_publish(1, client=graph_client)
    assert HubPublication.objects.get().page_id == made["id"]


def test_an_unknown_site_fails_with_its_reason(settings, people, graph_client):
    settings.HUB = {"site_id": "contoso.sharepoint.example,0,0", "page_name": "hub.aspx"}
    request(people, "Nowhere")
    with pytest.raises(PermanentError):
        hub_publish.run_publish(1, client=graph_client)
    row = HubPublication.objects.get()
    assert row.state == "failed" and "GIGBRIDGE_HUB_SITE_ID" in row.reason
    from gigbridge.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="hub.publish_failed").count() == 1


def test_a_throttled_call_is_retried_later(hub_site, people, graph_client, monkeypatch):
    from gigbridge.integrations.msgraph import pages
    from gigbridge.integrations.msgraph.errors import RetryableGraphError

    def throttled(*args, **kwargs):
        raise RetryableGraphError(429, "TooManyRequests", "slow down", None, "GET", "/sites/x",
                                  retry_after=7)  # fmt: skip

    monkeypatch.setattr(pages, "get_site", throttled)
    request(people, "Later")
    with pytest.raises(RetryableError) as raised:
        hub_publish.run_publish(1, client=graph_client)
    assert raised.value.retry_after == 7
    row = HubPublication.objects.get()
    assert row.state == "queued" and "will try again" in row.reason


def test_no_permission_on_sites_fails_saying_which_one(hub_site, people, tenant_info):
    """An app without a Sites permission (here: the sign-in app) is refused (403): the reason
    names the permission to grant."""
    from gigbridge.integrations.msgraph.auth import TokenProvider
    from gigbridge.sandbox.client import requests_session
    from gigbridge.sandbox.tests.files_support import product_client

    tokens = TokenProvider(
        tenant_info["tenant_id"],
        tenant_info["sign_in"]["client_id"],
        tenant_info["sign_in"]["client_secret"],
        authority_host=tenant_info["authority"].removeprefix("https://").rsplit("/", 1)[0],
        verify=tenant_info["ca_cert"],
        http_client=requests_session(tenant_info["ca_cert"]),
    )
    request(people, "Refused")
    with product_client(tenant_info, tokens, []) as client, pytest.raises(PermanentError):
        hub_publish.run_publish(1, client=client)
    row = HubPublication.objects.get()
    assert row.state == "failed" and "Sites.ReadWrite.All" in row.reason
