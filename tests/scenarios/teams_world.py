"""The sandbox's Teams as people use it: the product's bot connected to the sandbox's Bot
Connector (the variables ``gigbridge up`` gives it), and the sandbox's Teams view driven over
HTTPS as a person would click through it (pick who you are, open a chat or a channel, click a
card's button, reply in a thread)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import httpx

from gigbridge.sandbox.client import ssl_context_from

SECTION_PREFIX = "GIGBRIDGE_TEAMS_"


def connect_bot(settings, info: dict, hook_url: str, http: httpx.Client) -> None:
    """Configure the product's bot as ``gigbridge up`` does and point the sandbox's Bot
    Connector at ``hook_url`` (the bot's messaging endpoint)."""
    from gigbridge.integrations.teams import client, validation
    from gigbridge.sandbox.connect import teams_env

    section = dict(settings.TEAMS)
    for name, value in teams_env(info).items():
        key = name.removeprefix(SECTION_PREFIX).lower()
        assert key in section, f"{name} names no TEAMS setting"
        section[key] = value
    settings.TEAMS = section
    client.reset()
    validation.reset()
    set_endpoint(http, info, hook_url)


def set_endpoint(http: httpx.Client, info: dict, url: str) -> None:
    tools = info["tools"]
    answer = http.post(
        info["tools"]["teams"]["endpoint_url"],
        json={"messaging_endpoint": url},
        auth=(info["client_id"], info["client_secret"]),
    )
    assert answer.status_code == 200, (tools, answer.text)


def tools_client(info: dict) -> httpx.Client:
    return httpx.Client(
        base_url=info["viewer_url"].rstrip("/"),
        verify=ssl_context_from(info["ca_cert"]),
        timeout=30,
        follow_redirects=False,
    )


@dataclass
class Card:
    activity: str  # the card message's row in the view
    conversation: str
    text: str  # what the card says, as plain text
    buttons: dict[str, str]  # title -> action number


class TeamsView:
    """One person at the sandbox's Teams view (``/teams/``), signed in to the sandbox tools."""

    def __init__(self, http: httpx.Client, info: dict, object_id: str):
        self.http, self.info, self.person = http, info, object_id
        self.page = ""

    @classmethod
    def sign_in(cls, http: httpx.Client, info: dict) -> None:
        """The sandbox tools' sign-in (acting as anyone is a tool)."""
        page = http.get("/teams/").text
        answer = http.post(
            info["tools"]["viewer_sign_in_url"],
            data={
                "csrfmiddlewaretoken": _csrf(page),
                "client_id": info["client_id"],
                "client_secret": info["client_secret"],
                "next": "/teams/",
            },
            headers={"Origin": str(http.base_url).rstrip("/")},
        )
        assert answer.status_code == 303, answer.text[:500]

    def open(self, **params) -> str:
        answer = self.http.get("/teams/", params={"as": self.person, **params})
        assert answer.status_code == 200, answer.text[:500]
        self.page = answer.text
        return self.page

    def open_chat(self) -> str:
        """The person's chat with the Gigbridge bot (what the view opens first)."""
        self.open()
        assert "<h2>Chat with Gigbridge</h2>" in self.page
        return self.page

    def open_channel(self, team_name: str, channel: str = "General") -> str:
        self.open()
        found = re.search(
            r'href="(/teams/\?[^"]*channel=\d+[^"]*)"[^>]*>\s*'
            + re.escape(f"{team_name} › {channel}"),
            self.page,
        )
        assert found, f"no channel {team_name} › {channel} on the Teams view"
        answer = self.http.get(html.unescape(found.group(1)))
        assert answer.status_code == 200
        self.page = answer.text
        return self.page

    def messages(self) -> list[str]:
        """Every message on the open page, as plain text (author, time, text or card)."""
        return [
            text_of(body) for body in re.findall(r"<article[^>]*>(.*?)</article>", self.page, re.S)
        ]

    def cards(self) -> list[Card]:
        found = []
        for body in re.findall(r"<article[^>]*>(.*?)</article>", self.page, re.S):
            form = re.search(r'action="/teams/invoke" id="card-(\d+)"', body)
            if not form:
                continue
            buttons = {
                text_of(title): number
                for number, title in re.findall(
                    r'name="action"\s+value="(\d+)">(.*?)</button>', body, re.S
                )
            }
            conversation = re.search(r'name="conversation" value="([^"]+)"', body).group(1)
            activity = re.search(r'name="activity" value="(\d+)"', body).group(1)
            found.append(Card(activity, html.unescape(conversation), text_of(body), buttons))
        return found

    def click(self, card: Card, button: str, **inputs) -> httpx.Response:
        data = {
            "as": self.person,
            "conversation": card.conversation,
            "activity": card.activity,
            "action": card.buttons[button],
            **{f"input:{name}": value for name, value in inputs.items()},
        }
        return self._post("/teams/invoke", data)

    def reply(self, conversation: str, text: str) -> httpx.Response:
        return self._post(
            "/teams/post",
            {"as": self.person, "conversation": conversation, "do": "reply", "text": text},
        )

    def _post(self, path: str, data: dict) -> httpx.Response:
        data = {"csrfmiddlewaretoken": _csrf(self.page), **data}
        origin = str(self.http.base_url).rstrip("/")
        answer = self.http.post(path, data=data, headers={"Origin": origin})
        assert answer.status_code in (302, 303), answer.text[:500]
        return answer


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())
