"""``/files/``: the tenant's document libraries as a person of the tenant sees them.

Signed in to the sandbox tools (``viewertools``; acting as anyone is a tool), a person picks who
they are (``?as=<object id>``, any member or guest), then sees the libraries of the groups they
belong to and what was shared with them (live shares, by the sandbox clock), browses folders
(``&item=<id>``), opens a file's versions and downloads any of them, and uploads a file into a
folder they may write to. Uploads go the way Graph's do (``people.upload``): versions, the
change log, delta and notifications follow, in that person's name. Whatever they cannot reach
answers a page saying so and why (403). Names, not ids; no JavaScript; fits a phone.

- ``GET /files/?as=&item=``
- ``POST /files/upload`` (``as``, ``folder``, ``file``; up to ``MAX_UPLOAD`` bytes)
- ``GET /files/download?as=&item=&version=``: 302 to that version's download URL.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from .. import viewertools
from ..models import SandboxUser
from . import people
from .drives import download_url, path_of, root_of
from .models import DriveItem

MAX_UPLOAD = 100 * 1024 * 1024  # bytes, through the page
SHOWN_CHILDREN = 500


def _person(value) -> SandboxUser | None:
    try:
        key = uuid.UUID(str(value or ""))
    except ValueError:
        return None
    return SandboxUser.objects.filter(id=key).first()


def link(user: SandboxUser, item: DriveItem | None = None, **extra) -> str:
    params = {"as": str(user.id)}
    if item is not None:
        params["item"] = item.id
    return "/files/?" + urlencode({**params, **extra})


def size_label(size: int) -> str:
    if size < 1024:
        return f"{size} byte{'' if size == 1 else 's'}"
    if size < 1024**2:
        return f"{size / 1024:.1f} KB"
    if size < 1024**3:
        return f"{size / 1024**2:.1f} MB"
    return f"{size / 1024**3:.2f} GB"


def _who(identity: dict) -> str:
    entry = (identity or {}).get("user") or (identity or {}).get("application") or {}
    return entry.get("displayName") or entry.get("email") or "System Account"


def _row(user: SandboxUser, item: DriveItem) -> dict:
    version = None if item.is_folder else item.versions.order_by("-number").first()
    return {
        "item": item,
        "url": link(user, item),
        "size": size_label(version.size) if version else "",
        "version": f"{version.number}.0" if version else "",
        "count": item.children.count() if item.is_folder else None,
        "by": _who(item.modified_by),
    }


def _crumbs(user: SandboxUser, item: DriveItem) -> list[dict]:
    """The way down to the item; folders the person cannot open are shown without a link."""
    chain = [*path_of(item), item]
    crumbs = []
    for each in chain:
        name = f"{each.drive.group_name} › Documents" if each.parent_id is None else each.name
        can = people.reach(user, each).reachable
        crumbs.append({"name": name, "url": link(user, each) if can else None})
    return crumbs


def page(view):
    return viewertools.viewer_page(view)


def _refuse(request: HttpRequest, message: str, status: int, back: str = "/files/"):
    response = render(
        request,
        "sandbox/error.html",
        {"title": "Files", "message": message, "back": back},
        status=status,
    )
    response.headers["Content-Security-Policy"] = viewertools.CSP
    response.headers["Cache-Control"] = "no-store"
    return response


@require_GET
@page
def files(request: HttpRequest) -> HttpResponse:
    context = {**viewertools.context(request), "next": "/files/", "max_upload": MAX_UPLOAD}
    context["max_upload_label"] = size_label(MAX_UPLOAD)
    if not context["tools"]:
        return render(request, "sandbox_files/files.html", context)
    people_list = list(SandboxUser.objects.order_by("display_name"))
    user = _person(request.GET.get("as"))
    context.update(people=people_list, user=user)
    if user is None:
        return render(request, "sandbox_files/files.html", context)
    context["libraries"] = [
        {"drive": d, "url": link(user, root_of(d))} for d in people.libraries(user)
    ]
    context["shared"] = [
        {
            "item": item,
            "url": link(user, item),
            "where": people.folder_path(item) if item.is_folder else item.name,
            "site": item.drive.group_name,
            "permission": permission,
        }
        for item, permission in people.shared_with(user)
    ]
    key = request.GET.get("item")
    if not key:
        return render(request, "sandbox_files/files.html", context)
    item = DriveItem.objects.select_related("drive").filter(id=key).first()
    if item is None:
        context["denied"] = "This item does not exist (any more)."
        return render(request, "sandbox_files/files.html", context, status=404)
    allowed = people.reach(user, item)
    context["reach"] = allowed
    context["crumbs"] = _crumbs(user, item)
    if not allowed.reachable:
        context["denied"] = allowed.why.removeprefix("No access: ")  # the heading says it
        return render(request, "sandbox_files/files.html", context, status=403)
    context["item"] = item
    context["here"] = link(user, item)
    if item.is_folder:
        children = item.children.all().order_by("-is_folder", "name")[:SHOWN_CHILDREN]
        context["children"] = [_row(user, child) for child in children]
    else:
        context["file"] = _row(user, item)
        context["versions"] = [
            {
                "number": f"{v.number}.0",
                "size": size_label(v.size),
                "when": v.created,
                "by": _who(v.created_by),
                "url": "/files/download?"
                + urlencode({"as": str(user.id), "item": item.id, "version": v.number}),
            }
            for v in item.versions.order_by("-number")
        ]
    return render(request, "sandbox_files/files.html", context)


@require_GET
def download(request: HttpRequest) -> HttpResponse:
    if not viewertools.signed_in(request):
        return _refuse(request, "Sign in to the sandbox tools to act as a person.", 403)
    user = _person(request.GET.get("as"))
    item = DriveItem.objects.select_related("drive").filter(id=request.GET.get("item", "")).first()
    if user is None or item is None or item.is_folder:
        return _refuse(request, "Pick a person and one of the files they can reach.", 400)
    allowed = people.reach(user, item)
    if not allowed.reachable:
        return _refuse(request, allowed.why, 403, link(user))
    number = request.GET.get("version", "")
    version = (
        item.versions.filter(number=int(number)).first()
        if number.isdigit() and len(number) < 10
        else item.versions.order_by("-number").first()
    )
    if version is None:
        return _refuse(request, "That version does not exist.", 404, link(user, item))
    return HttpResponseRedirect(download_url(item, version))


@csrf_exempt  # checked below, once the size is known to be bounded
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    """The size is judged before anything reads the body: the CSRF check parses the form,
    which would otherwise spool any amount to disk first."""
    if not viewertools.signed_in(request):
        return _refuse(request, "Sign in to the sandbox tools to act as a person.", 403)
    declared = request.META.get("CONTENT_LENGTH") or ""
    if not declared.isdigit() or int(declared) > MAX_UPLOAD + 64 * 1024:
        return _refuse(request, f"Files up to {size_label(MAX_UPLOAD)} here.", 413)
    return _checked_upload(request)


@csrf_protect
def _checked_upload(request: HttpRequest) -> HttpResponse:
    user = _person(request.POST.get("as"))
    folder = (
        DriveItem.objects.select_related("drive").filter(id=request.POST.get("folder", "")).first()
    )
    if user is None or folder is None:
        return _refuse(request, "Pick who you are and a folder first.", 400)
    sent = request.FILES.get("file")
    if sent is None:
        return _refuse(request, "Choose a file to upload.", 400, link(user, folder))
    if sent.size > MAX_UPLOAD:
        return _refuse(request, f"Files up to {size_label(MAX_UPLOAD)} here.", 413)
    try:
        item, _ = people.upload(
            user, folder, sent.name, sent.chunks(), behavior="replace", max_bytes=MAX_UPLOAD
        )
    except people.UploadRefused as exc:
        return _refuse(request, exc.message, exc.status, link(user, folder))
    return HttpResponseRedirect(link(user, item), status=303)
