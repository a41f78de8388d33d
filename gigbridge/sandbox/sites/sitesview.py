"""``/sites/``: the tenant's SharePoint sites and their pages, read-only, as an employee of the
tenant sees them: the list of each site's pages (title, file name, state, version, last change)
and a published page's content (its published version; drafts are not shown, as SharePoint shows
readers only what was published).

The page's HTML came from a Graph client, so it is sanitised again here (``nh3``, an allow-list
of tags and attributes; links keep only http(s) and mailto and get ``rel="noopener
noreferrer"``) and shown under the viewers' strict CSP (no script at all). No forms, no
JavaScript; fits a phone. A page's ``webUrl`` (on SharePoint's host name) is its page here.

- ``GET /sites/``, ``GET /sites/{name}/``, ``GET /sites/{name}/SitePages/{file}.aspx``
"""

from __future__ import annotations

import nh3
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from .. import viewertools
from .models import Site, SitePage

TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "ul", "ol", "li", "strong", "em", "b",
    "i", "u", "s", "a", "blockquote", "code", "pre", "table", "thead", "tbody", "tr", "th", "td",
    "dl", "dt", "dd", "span", "div", "section", "small", "sub", "sup",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope", "colspan", "rowspan"},
              "td": {"colspan", "rowspan"}}  # fmt: skip
SHOWN_PAGES = 500


def clean(html: str) -> str:
    return nh3.clean(
        html or "",
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def published_parts(page: SitePage) -> list[str]:
    """The published version's text web parts, in order, sanitised."""
    parts = []
    for section in (page.published_canvas or {}).get("horizontalSections") or []:
        for column in section.get("columns") or []:
            for part in column.get("webparts") or []:
                if isinstance(part, dict) and isinstance(part.get("innerHtml"), str):
                    parts.append(mark_safe(clean(part["innerHtml"])))  # noqa: S308 - nh3 above
    return parts


def _render(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    return render(request, "sandbox_sites/sites.html", context, status=status)


@require_GET
@viewertools.viewer_page
def sites(request: HttpRequest) -> HttpResponse:
    return _render(request, {"sites": list(Site.objects.all()[:100])})


def _site(name: str) -> Site:
    found = Site.objects.filter(name=name).first()
    if found is None:
        raise Http404("no such site")
    return found


@require_GET
@viewertools.viewer_page
def site(request: HttpRequest, site: str) -> HttpResponse:
    found = _site(site)
    pages = list(found.pages.order_by("name")[:SHOWN_PAGES])
    return _render(request, {"site": found, "pages": pages})


@require_GET
@viewertools.viewer_page
def page(request: HttpRequest, site: str, name: str) -> HttpResponse:
    found = _site(site)
    shown = found.pages.filter(name__iexact=name).first()
    if shown is None:
        raise Http404("no such page")
    return _render(request, {"site": found, "page": shown, "parts": published_parts(shown)})
