"""SharePoint sites and pages in the sandbox's Graph: the seeded "Contoso Intranet", creating,
changing and publishing a modern page (bodies judged by Graph's metadata), and the read-only
``/sites/`` viewer that shows a published page's HTML sanitised again."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from gigbridge.integrations.msgraph import pages as graph_pages
from gigbridge.sandbox.graph.testing import assert_conforms, assert_graph_error


def page_body(name: str, html: str = "<h2>Hello</h2><p>First text.</p>", **extra) -> dict:
    return {
        "@odata.type": "#microsoft.graph.sitePage",
        "name": name,
        "title": "Freelance program",
        "pageLayout": "article",
        "showComments": False,
        "canvasLayout": graph_pages.canvas_layout([graph_pages.Section("intro", html)]),
        **extra,
    }


@pytest.fixture
def site(info) -> str:
    return quote(info["hub_site_id"], safe="")


def unique_name() -> str:
    return f"hub-{uuid.uuid4().hex[:8]}.aspx"


def test_the_seeded_intranet_site(graph, info, site):
    body = graph.ok("GET", f"/sites/{site}", type_name="site")
    assert body["id"] == info["hub_site_id"]
    assert body["displayName"] == "Contoso Intranet"
    assert body["id"].count(",") == 2  # {host},{site collection id},{web id}
    # `gigbridge up` gives the product this site for the hub.
    from gigbridge.sandbox.connect import product_env

    assert product_env(info)["GIGBRIDGE_HUB_SITE_ID"] == info["hub_site_id"]


def test_create_update_publish_and_read_back(graph, site, http):
    name = unique_name()
    made = graph.ok("POST", f"/sites/{site}/pages", json=page_body(name), status=201,
                    type_name="sitePage")  # fmt: skip
    assert made["publishingState"] == {"level": "checkout", "versionId": "0.1"}
    page = made["id"]
    path = f"/sites/{site}/pages/{page}/microsoft.graph.sitePage"
    assert graph.ok("POST", f"{path}/publish", status=204) is None
    read = graph.ok("GET", path, params={"$expand": "canvasLayout"}, type_name="sitePage")
    assert read["publishingState"] == {"level": "published", "versionId": "1.0"}
    part = read["canvasLayout"]["horizontalSections"][0]["columns"][0]["webparts"][0]
    assert part["innerHtml"] == "<h2>Hello</h2><p>First text.</p>"
    # Without $expand, no layout.
    assert "canvasLayout" not in graph.ok("GET", path, type_name="sitePage")

    changed = {
        "@odata.type": "#microsoft.graph.sitePage",
        "title": "Freelance program, 2nd",
        "canvasLayout": graph_pages.canvas_layout([graph_pages.Section("a", "<p>Second.</p>")]),
    }
    after = graph.ok("PATCH", path, json=changed, type_name="sitePage")
    assert after["id"] == page and after["publishingState"]["level"] == "checkout"
    # The list has it once, by its name.
    listed = graph.ok("GET", f"/sites/{site}/pages", type_name="baseSitePage", collection=True)
    assert [p["id"] for p in listed["value"] if p["name"] == name] == [page]

    # The viewer shows the published version (not the draft) until the next publish.
    viewer = http.get(f"/sites/intranet/SitePages/{name}")
    assert viewer.status_code == 200 and "First text." in viewer.text
    assert "Second." not in viewer.text and "newer draft" in viewer.text
    graph.ok("POST", f"{path}/publish", status=204)
    viewer = http.get(f"/sites/intranet/SitePages/{name}")
    assert "Second." in viewer.text and "Freelance program, 2nd" in viewer.text
    assert "default-src 'none'" in viewer.headers["Content-Security-Policy"]
    listing = http.get("/sites/intranet/")
    assert listing.status_code == 200 and name in listing.text
    assert 'href="/sites/"' in http.get("/").text  # the tenant viewer links the Sites view
    assert "Contoso Intranet" in http.get("/sites/").text
    assert http.get("/sites/nowhere/").status_code == 404
    assert http.get("/sites/intranet/SitePages/none.aspx").status_code == 404


def test_unknown_property_and_wrong_type_are_refused(graph, site):
    bad = page_body(unique_name(), colour="blue")
    error = assert_graph_error(graph.call("POST", f"/sites/{site}/pages", json=bad), 400,
                               "BadRequest")  # fmt: skip
    assert "colour" in error["message"]
    inner = page_body(unique_name())
    inner["canvasLayout"]["horizontalSections"][0]["colour"] = "blue"
    error = assert_graph_error(graph.call("POST", f"/sites/{site}/pages", json=inner), 400,
                               "BadRequest")  # fmt: skip
    assert "horizontalSections[0].colour" in error["message"]
    typed = page_body(unique_name(), title=42)
    assert_graph_error(graph.call("POST", f"/sites/{site}/pages", json=typed), 400, "BadRequest")
    # webPart is abstract: a web part that neither names its type nor shows it is refused.
    untyped = page_body(unique_name())
    untyped["canvasLayout"]["horizontalSections"][0]["columns"][0]["webparts"] = [{"id": "x"}]
    assert_graph_error(graph.call("POST", f"/sites/{site}/pages", json=untyped), 400,
                       "BadRequest")  # fmt: skip
    # A bare baseSitePage, or a name that is not a .aspx file, is not a page.
    bare = page_body(unique_name())
    del bare["@odata.type"]
    assert_graph_error(graph.call("POST", f"/sites/{site}/pages", json=bare), 400, "BadRequest")
    wrong_name = page_body("hub.html")
    assert_graph_error(graph.call("POST", f"/sites/{site}/pages", json=wrong_name), 400,
                       "BadRequest")  # fmt: skip


def test_same_name_conflicts_and_unknown_things_are_404(graph, site):
    name = unique_name()
    graph.ok("POST", f"/sites/{site}/pages", json=page_body(name), status=201)
    assert_graph_error(graph.call("POST", f"/sites/{site}/pages", json=page_body(name.upper())),
                       409, "nameAlreadyExists")  # fmt: skip
    assert_graph_error(graph.call("GET", "/sites/nowhere.example,1,2"), 404, "itemNotFound")
    missing = f"/sites/{site}/pages/{uuid.uuid4()}/microsoft.graph.sitePage"
    assert_graph_error(graph.call("GET", missing), 404, "itemNotFound")
    assert_graph_error(graph.call("POST", f"{missing}/publish"), 404, "itemNotFound")
    expand = graph.call("GET", f"/sites/{site}/pages/{uuid.uuid4()}", params={"$expand": "x"})
    assert expand.status_code in (400, 404)


def test_viewer_sanitises_published_html(graph, site, http):
    name = unique_name()
    hostile = (
        '<p onclick="steal()">Hi<script>alert(1)</script></p>'
        '<a href="javascript:alert(2)">bad</a><a href="https://contoso.example/">good</a>'
        '<img src="x" onerror="alert(3)"><iframe src="https://evil.example"></iframe>'
    )
    page = graph.ok("POST", f"/sites/{site}/pages", json=page_body(name, hostile), status=201)
    graph.ok("POST", f"/sites/{site}/pages/{page['id']}/microsoft.graph.sitePage/publish",
             status=204)  # fmt: skip
    shown = http.get(f"/sites/intranet/SitePages/{name}").text
    for bad in ("<script", "alert(1)", "onclick", "javascript:", "onerror", "<iframe", "<img"):
        assert bad not in shown, bad
    assert 'href="https://contoso.example/"' in shown and "noopener noreferrer" in shown


def test_pages_need_a_sites_permission(info, http, site):
    from gigbridge.sandbox.graph.testing import Graph, app_token

    # The sign-in app has delegated User.Read only: no application permission on sites.
    token = app_token(info, info["sign_in"]["client_id"], info["sign_in"]["client_secret"])
    stranger = Graph(http, info, token)
    response = stranger.call("POST", f"/sites/{site}/pages", json=page_body(unique_name()))
    assert response.status_code == 403


def test_graphs_own_create_example_is_accepted(graph, site):
    """The request of Graph's "Create a page in the site pages list of a site", trimmed: web parts
    without @odata.type (told by their properties) and titleArea's undeclared extras."""
    text_part = {"id": "6f9230af-2a98-4952-b205-9ede4f9ef548", "innerHtml": "<p><b>Hello!</b></p>"}
    image_part = {
        "id": "73d07dde-3474-4545-badb-f28ba239e0e1",
        "webPartType": "d1d91016-032f-456d-98a4-721247c305e8",
        "data": {
            "dataVersion": "1.9",
            "description": "Show an image on your page",
            "title": "Image",
            "properties": {"imageSourceType": 2, "altText": ""},
        },
    }
    body = {
        "@odata.type": "#microsoft.graph.sitePage",
        "name": unique_name(),
        "title": "test",
        "pageLayout": "article",
        "showComments": True,
        "showRecommendedPages": False,
        "titleArea": {
            "enableGradientEffect": True,
            "layout": "colorBlock",
            "showAuthor": True,
            "textAboveTitle": "TEXT ABOVE TITLE",
            "textAlignment": "left",
            "imageSourceType": 2,
            "title": "sample1",
        },
        "canvasLayout": {
            "horizontalSections": [
                {
                    "layout": "oneThirdRightColumn",
                    "id": "1",
                    "emphasis": "none",
                    "columns": [
                        {"id": "1", "width": 8, "webparts": [text_part]},
                        {"id": "2", "width": 4, "webparts": [image_part]},
                    ],
                }
            ]
        },
    }
    made = graph.ok("POST", f"/sites/{site}/pages", json=body, status=201)
    # Checked strictly, as the tests check answers: titleArea's extras are the request's own.
    assert made.pop("titleArea")["title"] == "sample1"
    assert_conforms("sitePage", made)
    columns = made["canvasLayout"]["horizontalSections"][0]["columns"]
    assert columns[0]["webparts"][0]["@odata.type"] == "#microsoft.graph.textWebPart"
    assert columns[1]["webparts"][0]["@odata.type"] == "#microsoft.graph.standardWebPart"
