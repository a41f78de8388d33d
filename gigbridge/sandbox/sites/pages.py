"""Graph routes of SharePoint sites and their modern pages.

Bodies are judged by Microsoft's metadata (``graph.validation``): ``site.pages`` holds
``baseSitePage``s, a modern page is the derived open type ``sitePage`` whose content is the
contained ``canvasLayout`` (``horizontalSections`` → ``columns`` → ``webparts``; ``webPart`` is
abstract, so each names its type, e.g. ``#microsoft.graph.textWebPart`` with ``innerHtml``).

Where the reference is silent, what is assumed (from Graph's documentation of these calls):

- ``sitePage`` is an open type, but Graph refuses properties a page does not have, so a page's
  own properties are checked strictly (an unknown one is a 400 here, as a misspelt one is
  there). Nested open types are not: Graph's own create example sends ``titleArea`` with
  ``title`` and ``imageSourceType``, which ``titleArea`` does not declare.
- ``webPart`` is abstract, yet Graph's create example sends web parts without ``@odata.type``:
  Graph tells them by their properties. So does the sandbox, before checking: ``innerHtml`` makes
  a ``textWebPart``, ``webPartType`` a ``standardWebPart``; anything else must name its type.
- A create must name ``#microsoft.graph.sitePage`` in ``@odata.type`` (the documented request
  does; a bare ``baseSitePage`` is not creatable) and a ``name`` ending in ``.aspx``, unique in
  the site (409 ``nameAlreadyExists`` otherwise).
- A create or a PATCH makes a draft (minor version, ``publishingState.level`` ``checkout``);
  ``publish`` (204, no body) makes it the next major version, ``published``. PATCH replaces
  ``canvasLayout`` as a whole. ``$expand=canvasLayout`` is the only expansion served.
- Application permission ``Sites.ReadWrite.All`` (or Manage/FullControl) writes, any
  ``Sites.*.All`` reads; ``publish`` also takes ``Files.ReadWrite.All`` (its documented least
  privileged one). ``Sites.Selected`` (a grant per site) is not emulated.

Every number is bounded (``MAX_*``): a body over a bound is a 400 that names it.
"""

from __future__ import annotations

import json
import uuid

from django.conf import settings

from ..graph.dispatch import GraphRequest, GraphResponse, created, iso, no_content, ok, route
from ..graph.errors import GraphError, bad_request
from ..graph.validation import check
from ..m365files import clock
from ..models import AppRegistration
from .models import Site, SitePage

READ = ("Sites.Read.All", "Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All")
WRITE = ("Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All")
# Graph's page on publish names Files.ReadWrite.All as its least privileged application permission.
PUBLISH = ("Files.ReadWrite.All", *WRITE)

SITE_PAGE = "#microsoft.graph.sitePage"
MAX_PAGES = 1000  # per site
MAX_SECTIONS = 50
MAX_COLUMNS = 3  # SharePoint's sections have at most three columns
MAX_WEB_PARTS = 50  # per column
MAX_CANVAS_BYTES = 2 * 1024 * 1024  # the layout's JSON
MAX_NAME = 128
MAX_TITLE = 255


def site_not_found() -> GraphError:
    return GraphError(404, "itemNotFound", "Requested site could not be found")


def page_not_found() -> GraphError:
    return GraphError(404, "itemNotFound", "The page could not be found.")


def find_site(key: str) -> Site:
    site = Site.objects.filter(graph_id__iexact=key).first()
    if site is None:
        raise site_not_found()
    return site


def find_page(site: Site, key: str) -> SitePage:
    try:
        page_id = uuid.UUID(key)
    except ValueError:
        raise page_not_found() from None
    page = SitePage.objects.filter(site=site, id=page_id).first()
    if page is None:
        raise page_not_found()
    return page


def web_url(site: Site, name: str | None = None) -> str:
    # SharePoint's host, not Graph's (as on Microsoft 365); the viewer answers there.
    base = f"{settings.SANDBOX_FILES_URL}/sites/{site.name}"
    return f"{base}/SitePages/{name}" if name else base


def site_json(request: GraphRequest, site: Site) -> dict:
    return {
        "@odata.context": f"{request.base}/$metadata#sites/$entity",
        "id": site.graph_id,
        "name": site.name,
        "displayName": site.display_name,
        "description": site.description,
        "webUrl": web_url(site),
        "createdDateTime": iso(site.created),
        "lastModifiedDateTime": iso(site.created),
        "siteCollection": {"hostname": site.graph_id.split(",", 1)[0]},
        "root": {},
    }


def identity(request: GraphRequest) -> dict:
    app = AppRegistration.objects.filter(client_id=request.principal.client_id).first()
    name = app.display_name if app else str(request.principal.client_id)
    if request.principal.user is not None:
        user = request.principal.user
        return {"user": {"id": str(user.id), "displayName": user.display_name}}
    return {"application": {"id": str(request.principal.client_id), "displayName": name}}


def page_json(request: GraphRequest, page: SitePage, *, expand: bool = False) -> dict:
    body = {
        "@odata.context": f"{request.base}/$metadata#sites('{page.site.graph_id}')/pages/$entity",
        "@odata.type": SITE_PAGE,
        "@odata.etag": f'"{{{str(page.id).upper()}}},{page.major * 1000 + page.minor}"',
        "id": str(page.id),
        "name": page.name,
        "title": page.title,
        "webUrl": web_url(page.site, page.name),
        "pageLayout": page.page_layout,
        "promotionKind": page.promotion_kind,
        "showComments": page.show_comments,
        "showRecommendedPages": page.show_recommended_pages,
        "createdDateTime": iso(page.created),
        "lastModifiedDateTime": iso(page.modified),
        "createdBy": page.created_by,
        "lastModifiedBy": page.modified_by,
        "parentReference": {"siteId": page.site.graph_id},
        "publishingState": {
            "level": "published" if page.published else "checkout",
            "versionId": page.version,
        },
    }
    if page.title_area is not None:
        body["titleArea"] = page.title_area
    if expand:
        body["canvasLayout"] = page.canvas
    return body


def _expand(request: GraphRequest) -> bool:
    wanted = [part.strip() for part in request.query.get("$expand", "").split(",") if part.strip()]
    for part in wanted:
        if part != "canvasLayout":
            raise bad_request(
                f"Parsing OData Select and Expand failed: Could not find a property "
                f"named '{part[:100]}' on type 'microsoft.graph.sitePage'."
            )
    return bool(wanted)


def _bounded(text, limit: int, what: str) -> str:
    if len(text) > limit:
        raise bad_request(f"Invalid request body: {what} is longer than {limit} characters.")
    return text


def _canvas(layout: dict) -> dict:
    """The layout as stored: bounded, with ids given to sections, columns and web parts."""
    if len(json.dumps(layout)) > MAX_CANVAS_BYTES:
        raise bad_request(f"Invalid request body: canvasLayout is over {MAX_CANVAS_BYTES} bytes.")
    sections = layout.get("horizontalSections") or []
    if len(sections) > MAX_SECTIONS:
        raise bad_request(f"Invalid request body: more than {MAX_SECTIONS} horizontalSections.")
    stored_sections = []
    for number, section in enumerate(sections, start=1):
        columns = section.get("columns") or []
        if len(columns) > MAX_COLUMNS:
            raise bad_request(
                f"Invalid request body: more than {MAX_COLUMNS} columns in a section."
            )
        stored_columns = []
        for index, column in enumerate(columns, start=1):
            parts = column.get("webparts") or []
            if len(parts) > MAX_WEB_PARTS:
                raise bad_request(
                    f"Invalid request body: more than {MAX_WEB_PARTS} webparts in a column."
                )
            stored_columns.append(
                {
                    "id": str(column.get("id") or index),
                    "width": column.get("width") or 12,
                    "webparts": [
                        {**part, "id": str(part.get("id") or uuid.uuid4())} for part in parts
                    ],
                }
            )
        stored_sections.append(
            {
                "id": str(section.get("id") or number),
                "layout": section.get("layout") or "oneColumn",
                "emphasis": section.get("emphasis") or "none",
                "columns": stored_columns,
            }
        )
    stored = {"id": "canvasLayout", "horizontalSections": stored_sections}
    if layout.get("verticalSection") is not None:
        stored["verticalSection"] = layout["verticalSection"]
    return stored


def _apply(page: SitePage, body: dict) -> None:
    if "title" in body:
        page.title = _bounded(body["title"] or "", MAX_TITLE, "title")
    if "pageLayout" in body and body["pageLayout"]:
        page.page_layout = body["pageLayout"]
    if "promotionKind" in body and body["promotionKind"]:
        page.promotion_kind = body["promotionKind"]
    for field, attribute in (
        ("showComments", "show_comments"),
        ("showRecommendedPages", "show_recommended_pages"),
    ):
        if body.get(field) is not None:
            setattr(page, attribute, body[field])
    if "titleArea" in body:
        page.title_area = body["titleArea"]
    if "canvasLayout" in body:
        page.canvas = _canvas(body["canvasLayout"] or {})


# -- routes ----------------------------------------------------------------------------------


@route("GET", "/sites/{site}", permissions=READ)
def get_site(request: GraphRequest, site: str) -> GraphResponse:
    return ok(site_json(request, find_site(site)))


@route("GET", "/sites/{site}/pages", permissions=READ)
def list_pages(request: GraphRequest, site: str) -> GraphResponse:
    found = find_site(site)
    rows = [page_json(request, page) for page in found.pages.order_by("name")[:MAX_PAGES]]
    for row in rows:
        row.pop("@odata.context")
    context = f"{request.base}/$metadata#sites('{found.graph_id}')/pages"
    return ok({"@odata.context": context, "value": rows})


@route("POST", "/sites/{site}/pages", permissions=WRITE)
def create_page(request: GraphRequest, site: str) -> GraphResponse:
    found = find_site(site)
    body = _check_page("baseSitePage", request.json())
    if body.get("@odata.type") != SITE_PAGE:
        raise bad_request(
            "Invalid request body: a page is created as '@odata.type': '#microsoft.graph.sitePage'."
        )
    name = body.get("name") or ""
    if not name.lower().endswith(".aspx") or "/" in name or "\\" in name:
        raise bad_request("Invalid request body: name must be a file name ending in .aspx.")
    _bounded(name, MAX_NAME, "name")
    if found.pages.filter(name__iexact=name).exists():
        raise GraphError(409, "nameAlreadyExists", f"A page named '{name}' already exists.")
    if found.pages.count() >= MAX_PAGES:
        raise bad_request(f"The site has {MAX_PAGES} pages, the most the sandbox keeps.")
    now = clock.now()
    who = identity(request)
    page = SitePage(
        site=found,
        name=name,
        created=now,
        modified=now,
        created_by=who,
        modified_by=who,
        major=0,
        minor=1,
    )
    _apply(page, body)
    page.save()
    location = request.link(f"/sites/{found.graph_id}/pages/{page.id}")
    return created(page_json(request, page, expand=True), location)


def _typed_web_parts(body: dict) -> dict:
    """``body`` with each untyped web part given the type its properties show (see above)."""
    layout = body.get("canvasLayout")
    if not isinstance(layout, dict):
        return body
    parts = []
    for section in layout.get("horizontalSections") or []:
        for column in (section.get("columns") or []) if isinstance(section, dict) else []:
            if isinstance(column, dict):
                parts += column.get("webparts") or []
    vertical = layout.get("verticalSection")
    if isinstance(vertical, dict):
        parts += vertical.get("webparts") or []
    for part in parts:
        if isinstance(part, dict) and "@odata.type" not in part:
            if "innerHtml" in part:
                part["@odata.type"] = "#microsoft.graph.textWebPart"
            elif "webPartType" in part:
                part["@odata.type"] = "#microsoft.graph.standardWebPart"
    return body


def _check_page(type_name: str, body: dict) -> dict:
    """400 for a body Graph would refuse: the whole body by the metadata, the page's own
    properties strictly (nested open types such as ``titleArea`` leniently)."""
    from gigbridge.integrations.msgraph import conformance

    body = _typed_web_parts(body)
    check(type_name, body)
    own = {key: value for key, value in body.items() if key != "titleArea"}
    problems = conformance.validate(type_name, own, direction="request", strict=True)
    if problems:
        raise bad_request(f"Invalid request body: {problems[0]}")
    return body


@route("GET", "/sites/{site}/pages/{page}", permissions=READ)
def get_base_page(request: GraphRequest, site: str, page: str) -> GraphResponse:
    return ok(page_json(request, find_page(find_site(site), page), expand=_expand(request)))


@route("GET", "/sites/{site}/pages/{page}/sitePage", permissions=READ)
def get_page(request: GraphRequest, site: str, page: str) -> GraphResponse:
    return ok(page_json(request, find_page(find_site(site), page), expand=_expand(request)))


def _update(request: GraphRequest, site: str, page: str) -> GraphResponse:
    found = find_page(find_site(site), page)
    body = _check_page("sitePage", request.json())
    if "name" in body and body["name"] != found.name:
        raise bad_request("Invalid request body: a page's name cannot be changed.")
    _apply(found, body)
    found.modified = clock.now()
    found.modified_by = identity(request)
    # An edit of a published page starts its next draft.
    found.minor = found.minor + 1
    found.save()
    return ok(page_json(request, found, expand="canvasLayout" in body))


@route("PATCH", "/sites/{site}/pages/{page}/sitePage", permissions=WRITE)
def update_page(request: GraphRequest, site: str, page: str) -> GraphResponse:
    return _update(request, site, page)


@route("PATCH", "/sites/{site}/pages/{page}", permissions=WRITE)
def update_base_page(request: GraphRequest, site: str, page: str) -> GraphResponse:
    return _update(request, site, page)


@route("POST", "/sites/{site}/pages/{page}/sitePage/publish", permissions=PUBLISH)
def publish(request: GraphRequest, site: str, page: str) -> GraphResponse:
    found = find_page(find_site(site), page)
    if request.body.strip():
        from ..graph.validation import check_action

        check_action("sitePage", "publish", request.json())
    if not found.published:  # publishing the published version changes nothing
        found.major += 1
        found.minor = 0
        found.published_title = found.title
        found.published_canvas = found.canvas
        found.published_at = clock.now()
        found.modified_by = identity(request)
        found.save()
    return no_content()
