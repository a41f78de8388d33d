"""What the read-only viewer shows of the Graph emulator (never a secret).

Mail bodies (links in them sign people in, open decisions, redeem invitations) are shown only
to a viewer signed in to the sandbox tools (``viewertools``): the text as sent, with its links
clickable. An HTML body is shown as its text, each link written out after its label, so nothing
the mail carries (markup, scripts, styles) reaches the viewer's page.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ..m365files import clock
from ..models import GraphGroup, GraphInvitation, GraphSentMail, GraphTeam, Tenant
from . import control
from .teams import roles_of

MAIL_SHOWN = 50


def summary(tenant: Tenant) -> dict:
    now = clock.now()  # team readiness is judged by the sandbox clock
    teams = []
    found = (
        GraphTeam.objects.filter(group__tenant=tenant)
        .select_related("group")
        .prefetch_related("channels__members__user", "group__memberships__user")
        .order_by("created")
    )
    for team in found:
        members = [
            {"user": m.user, "roles": roles_of(m.user, m.owner)}
            for m in team.group.memberships.all()
            if m.member
        ]
        channels = [
            {
                "channel": channel,
                "members": [
                    {"user": m.user, "roles": roles_of(m.user, m.owner)}
                    for m in channel.members.all()
                ],
            }
            for channel in team.channels.all()
        ]
        teams.append(
            {"team": team, "ready": team.ready_at <= now, "members": members, "channels": channels}
        )
    groups = GraphGroup.objects.filter(tenant=tenant, team__isnull=True).order_by("created")
    return {
        "teams": teams,
        "groups": groups,
        "invitations": GraphInvitation.objects.filter(tenant=tenant).select_related("user")[:50],
        "mail": [mail_row(m) for m in GraphSentMail.objects.filter(tenant=tenant)[:MAIL_SHOWN]],
    }


URL = re.compile(r"https?://[^\s<>\"']+")
BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}


class _Text(HTMLParser):
    """An HTML body as plain text; each link's address written after its label."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str | None] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "head", "title"}:
            self.hidden += 1
        elif tag in BLOCKS:
            self.parts.append("\n")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append(href if URL.fullmatch(href) else None)

    def handle_endtag(self, tag):
        if tag in {"script", "style", "head", "title"}:
            self.hidden = max(0, self.hidden - 1)
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href and href not in self.parts[-1:]:
                self.parts.append(f" ({href})")
        elif tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def body_text(message: dict) -> str:
    """The body of a message as text (an HTML one converted), for the viewer."""
    body = message.get("body") if isinstance(message, dict) else None
    if not isinstance(body, dict):
        return ""
    content = str(body.get("content") or "")
    if str(body.get("contentType") or "text").lower() != "html":
        return content.strip()
    parser = _Text()
    parser.feed(content)
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()


def mail_row(mail: GraphSentMail) -> dict:
    """A sent mail for the viewer; its text's links are made clickable by the template
    (``urlize``, which escapes the rest)."""
    sender = (mail.message.get("from") or {}).get("emailAddress") or {}
    return {
        "mail": mail,
        "sender": sender.get("name") or mail.sender_address,
        "text": body_text(mail.message),
    }


def dials() -> dict:
    return control.current()
