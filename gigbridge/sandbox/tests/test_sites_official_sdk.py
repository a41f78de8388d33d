"""Microsoft's own Graph SDK (``msgraph-sdk``) makes a modern page in the sandbox's intranet
site and reads it back with its canvas layout: what the SDK serialises from Graph's models is
what the sandbox accepts, and what the sandbox answers the SDK parses (the text web part's
``innerHtml`` arrives typed as a ``TextWebPart``).

Skipped when ``msgraph-sdk`` is not installed (it is not one of Gigbridge's dependencies).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from gigbridge.sandbox.client import ssl_context_from

pytest.importorskip("msgraph")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

from kiota_abstractions.base_request_configuration import RequestConfiguration  # noqa: E402
from kiota_authentication_azure.azure_identity_authentication_provider import (  # noqa: E402
    AzureIdentityAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient  # noqa: E402
from msgraph.generated.models.canvas_layout import CanvasLayout  # noqa: E402
from msgraph.generated.models.horizontal_section import HorizontalSection  # noqa: E402
from msgraph.generated.models.horizontal_section_column import (  # noqa: E402
    HorizontalSectionColumn,
)
from msgraph.generated.models.horizontal_section_layout_type import (  # noqa: E402
    HorizontalSectionLayoutType,
)
from msgraph.generated.models.page_layout_type import PageLayoutType  # noqa: E402
from msgraph.generated.models.site_page import SitePage  # noqa: E402
from msgraph.generated.models.text_web_part import TextWebPart  # noqa: E402
from msgraph.generated.sites.item.pages.item.graph_site_page.graph_site_page_request_builder import (  # noqa: E402, E501
    GraphSitePageRequestBuilder,
)
from msgraph_core import GraphClientFactory  # noqa: E402

from .test_files_official_sdk import SandboxCredential  # noqa: E402


def test_the_official_sdk_creates_and_reads_a_site_page(info, token):
    site = info["hub_site_id"]
    name = f"sdk-{uuid.uuid4().hex[:8]}.aspx"

    async def run():
        context = ssl_context_from(info["ca_cert"])
        http_client = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(verify=context, timeout=30)
        )
        auth = AzureIdentityAuthenticationProvider(
            SandboxCredential(token),
            scopes=["https://graph.microsoft.com/.default"],
            allowed_hosts=[urlsplit(info["graph_base_url"]).hostname],
        )
        adapter = GraphRequestAdapter(auth, client=http_client)
        adapter.base_url = info["graph_base_url"]
        client = GraphServiceClient(request_adapter=adapter)
        page = SitePage(
            odata_type="#microsoft.graph.sitePage",
            name=name,
            title="Made by the SDK",
            page_layout=PageLayoutType.Article,
            show_comments=False,
            canvas_layout=CanvasLayout(
                horizontal_sections=[
                    HorizontalSection(
                        id="1",
                        layout=HorizontalSectionLayoutType.OneColumn,
                        columns=[
                            HorizontalSectionColumn(
                                id="1",
                                width=12,
                                webparts=[TextWebPart(id="t1", inner_html="<p>From the SDK</p>")],
                            )
                        ],
                    )
                ]
            ),
        )
        made = await client.sites.by_site_id(site).pages.post(page)
        query = GraphSitePageRequestBuilder.GraphSitePageRequestBuilderGetQueryParameters(
            expand=["canvasLayout"]
        )
        read = await (
            client.sites.by_site_id(site)
            .pages.by_base_site_page_id(made.id)
            .graph_site_page.get(RequestConfiguration(query_parameters=query))
        )
        await http_client.aclose()
        return made, read

    # On a thread of its own: a browser test may leave Playwright's loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        made, read = pool.submit(asyncio.run, run()).result()
    assert isinstance(made, SitePage) and made.name == name
    assert made.publishing_state.level == "checkout"
    assert read.title == "Made by the SDK"
    part = read.canvas_layout.horizontal_sections[0].columns[0].webparts[0]
    assert isinstance(part, TextWebPart) and part.inner_html == "<p>From the SDK</p>"
