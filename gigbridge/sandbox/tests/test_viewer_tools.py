"""The viewers' tools: sign in with the outside-tools app, move the clock forward (published for
the product), read mail bodies with their links; Planner tasks and folder shares with expiry."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import uuid
from pathlib import Path

import httpx
import pytest

from gigbridge import worldclock

from .files_support import advance_clock, guest, sandbox_now, tools, unified_group, user_id

ASSIGNMENT = "#microsoft.graph.plannerAssignment"


def csrf_token(http: httpx.Client, path: str = "/") -> str:
    page = http.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def post(http: httpx.Client, path: str, data: dict, token: str | None = None) -> httpx.Response:
    """A form POST as a browser sends it: the CSRF token and the Origin header."""
    fields = {"csrfmiddlewaretoken": token or csrf_token(http), **data}
    origin = str(http.base_url).rstrip("/")
    return http.post(path, data=fields, headers={"Origin": origin})


def sign_in(http: httpx.Client, info: dict) -> None:
    answer = post(
        http,
        "/_sandbox/viewer/sign-in",
        {"client_id": info["client_id"], "client_secret": info["client_secret"], "next": "/"},
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/#clock"


def world_offset(info: dict) -> float:
    return worldclock.read(Path(info["world_clock_file"]))


def test_the_viewer_is_read_only_until_signed_in(http, info):
    page = http.get("/")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "style-src 'self'" in csp and "form-action 'self'" in csp
    assert "<style" not in page.text and "<script" not in page.text and " style=" not in page.text
    assert '<link rel="stylesheet" href="/_sandbox/viewer.css">' in page.text
    css = http.get("/_sandbox/viewer.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "Sandbox time:" in page.text and "Sign in to the sandbox tools" in page.text
    assert "+1 day" not in page.text  # the controls need a signed-in viewer
    before = sandbox_now(http, info)

    token = csrf_token(http)
    signed_out = post(http, "/_sandbox/viewer/clock", {"advance": "day"}, token)
    no_csrf = http.post(
        "/_sandbox/viewer/clock", data={"advance": "day"}, headers={"Origin": str(http.base_url)}
    )
    wrong = post(
        http,
        "/_sandbox/viewer/sign-in",
        {"client_id": info["client_id"], "client_secret": "guess"},
        token,
    )

    assert signed_out.status_code == 403 and "Sign in to the sandbox tools" in signed_out.text
    assert no_csrf.status_code == 403
    assert wrong.status_code == 403 and "gigbridge sandbox info" in wrong.text
    assert "+1 day" not in http.get("/").text
    assert sandbox_now(http, info) - before < dt.timedelta(minutes=1)  # nothing moved
    forged = httpx.Cookies()
    forged.set("gigbridge_sandbox_tools", f"{info['client_id']}:0123456789abcdef")
    http.cookies.update(forged)
    assert "+1 day" not in http.get("/").text  # an unsigned cookie is no sign-in


def test_the_buttons_move_the_clock_forward_and_publish_it_for_the_product(http, info):
    # Beyond any time an earlier test left in the published (forward-only) world clock.
    far = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=world_offset(info), days=3)
    tools(http, info, "POST", "/_sandbox/clock", json={"now": far.isoformat()})
    sign_in(http, info)
    page = http.get("/").text
    for value, label in (("hour", "+1 hour"), ("day", "+1 day"), ("week", "+1 week")):
        assert f'name="advance" value="{value}">{label}</button>' in page
    assert 'type="date"' in page and "Sign out of the tools" in page

    before = sandbox_now(http, info)
    moved = post(http, "/_sandbox/viewer/clock", {"advance": "day", "next": "/"})
    assert moved.status_code == 303 and moved.headers["location"] == "/#clock"
    after_day = sandbox_now(http, info)
    assert dt.timedelta(days=1) <= after_day - before < dt.timedelta(days=1, minutes=1)

    hour = post(http, "/_sandbox/viewer/clock", {"advance": "hour", "next": "/upwork/"})
    assert hour.headers["location"] == "/upwork/#clock"  # back where the button was
    week = post(http, "/_sandbox/viewer/clock", {"advance": "week", "next": "https://evil/"})
    assert week.headers["location"] == "/#clock"  # only the viewers, never elsewhere
    after = sandbox_now(http, info)
    assert dt.timedelta(days=8, hours=1) <= after - before < dt.timedelta(days=8, minutes=62)

    # Published for the product: the world clock file holds the sandbox clock's offset.
    clock = tools(http, info, "GET", "/_sandbox/clock")
    assert world_offset(info) == pytest.approx(clock["offset_seconds"])
    assert clock["world_offset_seconds"] == pytest.approx(clock["offset_seconds"])
    body = json.loads(Path(info["world_clock_file"]).read_text())
    assert abs(dt.datetime.fromisoformat(body["now"]) - after) < dt.timedelta(minutes=1)
    assert Path(info["world_clock_file"]).stat().st_mode & 0o777 == 0o600

    bad = post(http, "/_sandbox/viewer/clock", {"advance": "year"})
    assert bad.status_code == 400 and "hour, day or week" in bad.text
    # The Upwork viewer has the same panel.
    upwork = http.get("/upwork/")
    assert "+1 day" in upwork.text and 'name="next" value="/upwork/"' in upwork.text
    assert "default-src 'none'" in upwork.headers["content-security-policy"]

    # Set back through the tools API, the sandbox moves back alone: the product keeps its time.
    back = tools(http, info, "POST", "/_sandbox/clock", json={"advance_seconds": -2 * 86400})
    assert back["world_offset_seconds"] - back["offset_seconds"] == pytest.approx(2 * 86400)
    assert "Gigbridge keeps" in http.get("/").text

    signed_out = post(http, "/_sandbox/viewer/sign-out", {"next": "/"})
    assert signed_out.status_code == 303
    assert "+1 day" not in http.get("/").text


def test_go_to_a_date_keeps_the_time_of_day_and_only_moves_forward(http, info):
    sign_in(http, info)
    before = sandbox_now(http, info)
    target = before.date() + dt.timedelta(days=10)

    moved = post(http, "/_sandbox/viewer/clock", {"date": target.isoformat()})

    assert moved.status_code == 303
    after = sandbox_now(http, info)
    assert after.date() == target
    assert abs(after - dt.datetime.combine(target, before.timetz())) < dt.timedelta(minutes=1)
    for wrong, says in [
        (after.date().isoformat(), "only moves forward"),  # today: not forward
        ((after.date() - dt.timedelta(days=3)).isoformat(), "only moves forward"),
        ("15/01/2027", "YYYY-MM-DD"),
        ("2027-02-30", "YYYY-MM-DD"),
        ("", "YYYY-MM-DD"),
        ("2099-01-01", "ten years"),
    ]:
        refused = post(http, "/_sandbox/viewer/clock", {"date": wrong})
        assert refused.status_code == 400, wrong
        assert says in html.unescape(refused.text), (wrong, refused.text)
        assert "Back to the viewer" in refused.text
    assert sandbox_now(http, info) - after < dt.timedelta(minutes=1)


def test_mail_bodies_with_clickable_links_for_a_signed_in_viewer(graph, http, info):
    to = f"approver-{uuid.uuid4().hex[:6]}@contoso.example"
    link = f"http://127.0.0.1:8000/a/{uuid.uuid4().hex}/"
    text = {
        "subject": "Approval needed: REQ-42 Brand refresh",
        "body": {"contentType": "text", "content": f"Decide here:\n{link}\n\nThanks."},
        "toRecipients": [{"emailAddress": {"address": to}}],
    }
    markup = {
        "subject": "Offer <accepted>",
        "body": {
            "contentType": "html",
            "content": '<p>Open <a href="https://gigbridge.example/requests/7/">the request</a>'
            "</p><script>alert('x')</script><p onclick=\"x()\">Bye &amp; thanks</p>",
        },
        "toRecipients": [{"emailAddress": {"address": to}}],
    }
    for message in (text, markup):
        sent = graph.call("POST", "/users/max@contoso.example/sendMail", json={"message": message})
        assert sent.status_code == 202, sent.text

    signed_out = http.get("/").text
    assert "Approval needed: REQ-42 Brand refresh" in signed_out
    assert link not in signed_out  # bodies only for a signed-in viewer

    sign_in(http, info)
    page = http.get("/").text
    assert f'<a href="{link}" rel="nofollow">{link}</a>' in page
    assert "Decide here:" in page and "Thanks." in page
    assert 'the request (<a href="https://gigbridge.example/requests/7/"' in page
    assert "Bye &amp; thanks" in page and "Offer &lt;accepted&gt;" in page
    assert "alert(" not in page and "onclick" not in page and "<script" not in page
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC · from Max", page)


def test_planner_tasks_and_folder_shares_with_their_expiry(graph, http, info):
    group = unified_group(graph, "Brand refresh")
    plan = graph.ok(
        "POST",
        "/planner/plans",
        status=201,
        json={
            "container": {"url": f"https://graph.microsoft.com/v1.0/groups/{group}"},
            "title": "Freelance work ENG-7",
        },
    )
    bucket = graph.ok(
        "POST",
        "/planner/buckets",
        status=201,
        json={"name": "Deliverables", "planId": plan["id"], "orderHint": " !"},
    )
    carol = user_id(graph)
    due = sandbox_now(http, info).replace(microsecond=0) + dt.timedelta(days=14)
    title = f"Logo {uuid.uuid4().hex[:6]}"
    graph.ok(
        "POST",
        "/planner/tasks",
        status=201,
        json={
            "planId": plan["id"],
            "bucketId": bucket["id"],
            "title": title,
            "dueDateTime": due.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "assignments": {carol: {"@odata.type": ASSIGNMENT, "orderHint": " !"}},
        },
    )
    drive = graph.ok("GET", f"/groups/{group}/drive")["id"]
    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    folder = graph.ok(
        "POST",
        f"/drives/{drive}/items/{root}/children",
        status=201,
        json={"name": "Engagement ENG-7", "folder": {}},
    )
    inner = graph.ok(
        "POST",
        f"/drives/{drive}/items/{folder['id']}/children",
        status=201,
        json={"name": "Shared with freelancer", "folder": {}},
    )
    person = guest(graph)
    address = graph.ok("GET", f"/users/{person['id']}")["mail"]
    expires = due + dt.timedelta(days=16)
    graph.ok(
        "POST",
        f"/drives/{drive}/items/{inner['id']}/invite",
        json={
            "recipients": [{"email": address}],
            "roles": ["write"],
            "requireSignIn": True,
            "sendInvitation": False,
            "expirationDateTime": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )

    page = http.get("/").text

    row = re.search(rf"<tr>\s*<td>{title}.*?</tr>", page, re.S).group(0)
    assert "Carol" in row and carol not in row  # a name, not an id
    assert "Deliverables · Freelance work ENG-7" in row
    assert due.strftime("%Y-%m-%d %H:%M UTC") in row
    share = re.search(r"<tr>\s*<td>Documents/Engagement ENG-7/Shared with freelancer.*?</tr>",
                      page, re.S).group(0)  # fmt: skip
    assert "Brand refresh" in share and "write" in share and person["id"] not in share
    assert person.get("displayName", address) in share
    assert expires.strftime("%Y-%m-%d %H:%M UTC") in share and "expired" not in share

    advance_clock(http, info, (expires - sandbox_now(http, info)).total_seconds() + 60)
    later = http.get("/").text
    share = re.search(r"<tr>\s*<td>Documents/Engagement ENG-7/Shared with freelancer.*?</tr>",
                      later, re.S).group(0)  # fmt: skip
    assert "(expired)" in share  # judged by the sandbox clock


def test_one_date_format_in_the_sandbox_pages():
    """Every sandbox template shows time through ``|when`` (``2027-01-15 10:00 UTC``)."""
    import gigbridge.sandbox

    root = Path(gigbridge.sandbox.__file__).parent
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("templates/**/*.html")
        if "|date" in p.read_text() or "|time" in p.read_text()
    ]
    assert offenders == []
    from gigbridge.sandbox.templatetags.sandbox_time import when

    assert when(dt.datetime(2027, 1, 15, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == (
        "2027-01-15 10:00 UTC"
    )
    assert when(dt.date(2027, 1, 15)) == "2027-01-15"
    assert when("2027-01-15T10:00:00Z") == "2027-01-15 10:00 UTC"
    assert when(None) == "" and when("soon") == ""
