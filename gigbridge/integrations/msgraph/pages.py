"""SharePoint site pages (``sitePage``) as Graph v1.0 documents them.

    site = get_site(client, site_id)                          # 404 -> NotFound
    page = find_page(client, site_id, "program-hub.aspx")     # by file name, or None
    page = create_page(client, site_id, name, title, sections)   # a draft
    update_page(client, site_id, page["id"], title, sections)    # same page, new content
    publish_page(client, site_id, page["id"])                 # 204: the draft becomes visible
    get_page(client, site_id, page_id)                        # canvasLayout expanded

What this module designs by (``cleanMetadata-v1.0.xml`` and Graph's pages):

- ``site.pages`` is a collection of ``baseSitePage``; a modern page is the derived ``sitePage``
  (an open type), so a create names it with ``"@odata.type": "#microsoft.graph.sitePage"``.
  Its content is the contained ``canvasLayout``: ``horizontalSections`` of ``columns`` of
  ``webparts``; ``webPart`` is abstract, the text one is ``textWebPart`` with ``innerHtml``.
- ``POST /sites/{s}/pages`` (201) creates a draft; ``PATCH /sites/{s}/pages/{p}/
  microsoft.graph.sitePage`` changes it; ``POST …/microsoft.graph.sitePage/publish`` (204, no
  body: the action has only its binding parameter) publishes the current draft.
- A create is not idempotent: a lost answer could leave a page Graph made. Callers look the page
  up by its file name (``find_page``) before creating one, so a retry finds it instead.
- Permission: ``Sites.ReadWrite.All`` (application), as Graph documents creating and updating
  pages (``publish`` alone takes ``Files.ReadWrite.All``).

Content is passed as ``Section``s (a heading-less one-column section with one text web part
each); this module knows nothing of what the text says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from .client import GraphClient, segment
from .errors import NotFound

SITE_PAGE = "#microsoft.graph.sitePage"
TEXT_WEB_PART = "#microsoft.graph.textWebPart"
MAX_PAGES_SCANNED = 5000  # a site's pages read while looking one up by name
MAX_NAME = 128  # SharePoint file names: keep the page's well inside its limits


class Section(NamedTuple):
    """One horizontal section: a single column holding one text web part."""

    key: str  # stable within the page (used for the section's and web part's ids)
    html: str  # the web part's innerHtml, already sanitised by the caller


def _site(site_id: str) -> str:
    return f"/sites/{segment(site_id)}"


def _page(site_id: str, page_id: str) -> str:
    return f"{_site(site_id)}/pages/{segment(page_id)}/microsoft.graph.sitePage"


def check_name(name: str) -> str:
    if not name.endswith(".aspx") or "/" in name or "\\" in name or len(name) > MAX_NAME:
        raise ValueError(f"a site page's name is a file name ending in .aspx, not {name!r}")
    return name


def canvas_layout(sections: Sequence[Section]) -> dict:
    """The ``canvasLayout`` of a page made of ``sections`` (one full-width column each)."""
    return {
        "horizontalSections": [
            {
                "id": str(number),
                "layout": "oneColumn",
                "emphasis": "none",
                "columns": [
                    {
                        "id": "1",
                        "width": 12,
                        "webparts": [
                            {
                                "@odata.type": TEXT_WEB_PART,
                                "id": f"text-{section.key}"[:64],
                                "innerHtml": section.html,
                            }
                        ],
                    }
                ],
            }
            for number, section in enumerate(sections, start=1)
        ]
    }


def get_site(client: GraphClient, site_id: str) -> dict:
    return client.get_json(_site(site_id), type_name="site")


def find_page(client: GraphClient, site_id: str, name: str) -> dict | None:
    """The page whose file name is ``name`` (case-insensitive, as SharePoint's are), or None."""
    wanted = name.lower()
    for number, page in enumerate(
        client.iterate(f"{_site(site_id)}/pages", type_name="baseSitePage")
    ):
        if str(page.get("name") or "").lower() == wanted:
            return page
        if number >= MAX_PAGES_SCANNED:
            break
    return None


def get_page(client: GraphClient, site_id: str, page_id: str) -> dict:
    return client.get_json(
        _page(site_id, page_id), {"$expand": "canvasLayout"}, type_name="sitePage"
    )


def create_page(
    client: GraphClient, site_id: str, name: str, title: str, sections: Iterable[Section]
) -> dict:
    body = {
        "@odata.type": SITE_PAGE,
        "name": check_name(name),
        "title": title,
        "pageLayout": "article",
        "showComments": False,
        "showRecommendedPages": False,
        "canvasLayout": canvas_layout(list(sections)),
    }
    return client.post_json(
        f"{_site(site_id)}/pages", body, type_name="baseSitePage", response_type="sitePage"
    )


def update_page(
    client: GraphClient, site_id: str, page_id: str, title: str, sections: Iterable[Section]
) -> dict | None:
    """Replace the draft's title and content (PATCH is idempotent: retried safely)."""
    body = {
        "@odata.type": SITE_PAGE,
        "title": title,
        "canvasLayout": canvas_layout(list(sections)),
    }
    return client.patch_json(_page(site_id, page_id), body, type_name="sitePage")


def publish_page(client: GraphClient, site_id: str, page_id: str) -> None:
    """Publish the page's draft. Publishing what is already published changes nothing, so the
    POST is safe to send again."""
    client.request("POST", f"{_page(site_id, page_id)}/publish", idempotent=True)


def page_or_none(client: GraphClient, site_id: str, page_id: str) -> dict | None:
    try:
        return get_page(client, site_id, page_id)
    except NotFound:
        return None
