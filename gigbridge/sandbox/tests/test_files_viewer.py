"""The sandbox's Files view (``/files/``): a person of the tenant browses what they reach,
uploads (versions, delta and notifications follow, in their name), downloads any version, and
is told "no access" (and why) for the rest. Also rendered in Chromium at 1366 and 390 px."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from .files_support import guest, sandbox_now, unified_group
from .test_viewer_tools import csrf_token, sign_in


@pytest.fixture
def shared(graph, http, info):
    """A group's library; its folder "Deliverables" shared (write) with a new guest."""
    group = unified_group(graph, "Apollo")
    drive = graph.ok("GET", f"/groups/{group}/drive")["id"]
    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    folder = graph.ok(
        "POST",
        f"/drives/{drive}/items/{root}/children",
        json={"name": "Deliverables", "folder": {}},
        status=201,
    )
    person = guest(graph)
    user = graph.ok("GET", f"/users/{person['id']}")
    expires = sandbox_now(http, info) + dt.timedelta(days=30)
    graph.ok(
        "POST",
        f"/drives/{drive}/items/{folder['id']}/invite",
        json={
            "recipients": [{"email": user["mail"]}],
            "roles": ["write"],
            "requireSignIn": True,
            "sendInvitation": False,
            "expirationDateTime": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )
    return {"drive": drive, "root": root, "folder": folder, "guest": user, "group": group}


def upload(http, person: str, folder: str, name: str, data: bytes):
    token = csrf_token(http, f"/files/?as={person}")
    return http.post(
        "/files/upload",
        data={"csrfmiddlewaretoken": token, "as": person, "folder": folder},
        files={"file": (name, data, "application/octet-stream")},
        headers={"Origin": str(http.base_url).rstrip("/")},
    )


def test_signed_out_the_files_view_offers_only_the_sign_in(http, shared):
    page = http.get("/files/")
    assert page.status_code == 200
    assert "Sign in to the sandbox tools" in page.text and 'name="as"' not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    guest_id = shared["guest"]["id"]
    download = http.get(f"/files/download?as={guest_id}&item={shared['folder']['id']}")
    assert download.status_code == 403


def test_a_guest_browses_uploads_versions_and_downloads(graph, http, info, shared):
    sign_in(http, info)
    person, folder = shared["guest"]["id"], shared["folder"]["id"]
    home = http.get(f"/files/?as={person}")
    assert home.status_code == 200
    assert "Shared with" in home.text and "Documents/Deliverables" in home.text
    link = graph.ok("GET", f"/drives/{shared['drive']}/root/delta?token=latest")
    link = link["@odata.deltaLink"]

    inside = http.get(f"/files/?as={person}&item={folder}")
    assert inside.status_code == 200
    assert "This folder is empty." in inside.text and "Upload a file as" in inside.text
    made = upload(http, person, folder, "week 1.txt", b"first")
    assert made.status_code == 303, made.text
    again = upload(http, person, folder, "week 1.txt", b"second draft")
    assert again.status_code == 303 and again.headers["location"] == made.headers["location"]

    file_page = http.get(made.headers["location"])
    assert file_page.status_code == 200
    assert "Download version 2.0" in file_page.text and "Download version 1.0" in file_page.text
    assert shared["guest"]["displayName"] in file_page.text
    item_id = re.search(r"item=([0-9A-Z]+)", made.headers["location"]).group(1)
    item = graph.ok("GET", f"/drives/{shared['drive']}/items/{item_id}")
    assert item["lastModifiedBy"]["user"]["id"] == person
    assert item["createdBy"]["user"]["email"] == shared["guest"]["mail"]
    changed = graph.ok("GET", link)["value"]
    assert item_id in [i["id"] for i in changed]  # delta follows the viewer's uploads

    first = http.get(f"/files/download?as={person}&item={item_id}&version=1")
    assert first.status_code == 302
    assert http.get(first.headers["location"]).content == b"first"

    # The library's root is not theirs: a clear "no access", with why.
    root = http.get(f"/files/?as={person}&item={shared['root']}")
    assert root.status_code == 403
    assert "No access" in root.text and "is not a member of the group" in root.text
    refused = upload(http, person, shared["root"], "x.txt", b"x")
    assert refused.status_code == 403
    forged = http.post(
        "/files/upload",
        data={"as": person, "folder": folder},
        files={"file": ("f.txt", b"x", "text/plain")},
        headers={"Origin": str(http.base_url).rstrip("/")},
    )
    assert forged.status_code == 403  # no CSRF token: refused before anything is stored
    versions = graph.ok("GET", f"/drives/{shared['drive']}/items/{item_id}/versions")["value"]
    assert len(versions) == 2


def test_a_member_sees_the_library_and_names_not_ids(http, info, shared):
    sign_in(http, info)
    carol = re.search(
        r'<option value="([0-9a-f-]{36})"[^>]*>Carol Owner', http.get("/files/").text
    ).group(1)
    home = http.get(f"/files/?as={carol}")
    assert "Apollo" in home.text  # the group's library, by name
    library = re.search(r'href="(/files/\?as=[^"]+&amp;item=[^"]+)">Apollo', home.text)
    root = http.get(library.group(1).replace("&amp;", "&"))
    assert root.status_code == 200 and "Deliverables" in root.text
    visible = re.sub(r"<[^>]+>", " ", root.text)  # text only, not links or hidden fields
    assert shared["folder"]["id"] not in visible and shared["drive"] not in visible
    audrey = re.search(r'<option value="([0-9a-f-]{36})"[^>]*>Audrey Auditor', home.text)
    page = http.get(f"/files/?as={audrey.group(1)}")
    assert ">Security Review</a>" in page.text and "Apollo" not in page.text


@pytest.mark.browser
def test_the_files_view_renders_at_desktop_and_phone_widths(http, info, shared, tmp_path, browser):
    sign_in(http, info)
    person, folder = shared["guest"]["id"], shared["folder"]["id"]
    assert (
        upload(http, person, folder, "a rather long deliverable name v1.pdf", b"x").status_code
        == 303
    )
    cookie = http.cookies.get("gigbridge_sandbox_tools")
    shots = Path(os.environ.get("GIGBRIDGE_SCREENSHOTS") or tmp_path)
    base = str(http.base_url).rstrip("/")
    blocked: list[str] = []
    for width in (1366, 390):
        context = browser.new_context(
            viewport={"width": width, "height": 900}, ignore_https_errors=True
        )
        context.add_cookies([{"name": "gigbridge_sandbox_tools", "value": cookie, "url": base}])
        page = context.new_page()
        page.on("console", lambda m: blocked.append(m.text) if "Security" in m.text else 0)
        for name, url in (
            ("folder", f"{base}/files/?as={person}&item={folder}"),
            ("no-access", f"{base}/files/?as={person}&item={shared['root']}"),
        ):
            page.goto(url)
            page.screenshot(path=str(shots / f"files-{name}-{width}.png"), full_page=True)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{name} is {wide} px wide at {width} px"
        assert blocked == []  # the strict CSP blocks nothing (no inline style)
        context.close()
