"""In-memory Teams and Upwork for the bridge's unit tests: a recording fake of the Teams client
(threads with their replies, read back as Graph chatMessages) and a marketplace with rooms and
stories answering the room operations as Upwork's reference describes them."""

from __future__ import annotations

import datetime as dt
import itertools

from gigbridge import clock
from gigbridge.conversations import actions
from gigbridge.integrations.teams import client as teams_client
from gigbridge.integrations.teams.client import Sent
from gigbridge.integrations.upwork import operations as ops
from gigbridge.integrations.upwork.errors import PermanentUpworkError
from gigbridge.jobs.errors import PermanentError


class Crash(Exception):
    """The process died right after the outside service answered (before we recorded it)."""


class FakeTeams:
    def __init__(self, monkeypatch):
        self.threads: dict[str, dict] = {}  # root id -> {"team", "channel", "root", "replies"}
        self.updates: list[tuple[str, str, dict]] = []
        self.crash_after: set[str] = set()  # "start", "reply": answer, then crash once
        self.refuse: set[str] = set()  # a reply whose text holds one of these: 400, for good
        self.ids = itertools.count(1000)
        monkeypatch.setattr(teams_client, "configured", lambda: True)
        for name in ("start_thread", "reply", "update"):
            monkeypatch.setattr(teams_client, name, getattr(self, name))
        monkeypatch.setattr(actions, "general_channel", lambda team: (f"19:{team}@thread", "T"))
        monkeypatch.setattr(actions, "thread_replies", self.graph_replies)

    def _crash(self, what: str) -> None:
        if what in self.crash_after:
            self.crash_after.discard(what)
            raise Crash(what)

    def start_thread(self, team_id, channel_id, activity):
        root = str(next(self.ids))
        conversation = f"{channel_id};messageid={root}"
        self.threads[root] = {
            "team": team_id, "channel": channel_id, "root": activity, "replies": [],
            "conversation": conversation,
        }  # fmt: skip
        self._crash("start")
        return Sent(conversation, root)

    def reply(self, conversation_id, activity):
        root = conversation_id.rsplit("=", 1)[1]
        if any(word in activity["text"] for word in self.refuse):
            raise PermanentError("Teams POST v3/conversations/.../activities -> 400 BadArgument")
        reply_id = str(next(self.ids))
        self.threads[root]["replies"].append({"id": reply_id, "activity": activity})
        self._crash("reply")
        return Sent(conversation_id, reply_id)

    def update(self, conversation_id, activity_id, activity):
        root = conversation_id.rsplit("=", 1)[1]
        for item in self.threads[root]["replies"]:
            if item["id"] == activity_id:
                item["activity"] = activity
        self.updates.append((conversation_id, activity_id, activity))

    def graph_replies(self, thread):
        return [
            {"id": r["id"], "body": {"contentType": "html", "content": r["activity"]["text"]}}
            for r in self.threads[thread.root_activity_id]["replies"]
        ]

    def texts(self, root=None) -> list[str]:
        root = root or next(iter(self.threads))
        return [r["activity"]["text"] for r in self.threads[root]["replies"]]


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


class FakeUpwork:
    """Rooms by id: {"contract": id|None, "offers": [...], "stories": [dict]}."""

    def __init__(self, monkeypatch):
        self.rooms: dict[str, dict] = {}
        self.calls: list[tuple] = []
        self.crash_after_send = False
        self.ids = itertools.count(5000)
        monkeypatch.setattr(actions, "_upwork", lambda org: self)
        monkeypatch.setattr(ops, "room_list", self.room_list)
        monkeypatch.setattr(ops, "room_stories", self.room_stories)
        monkeypatch.setattr(ops, "send_room_message", self.send)
        monkeypatch.setattr(ops, "contract_room", self.contract_room)
        monkeypatch.setattr(ops, "offer_room", self.offer_room)
        monkeypatch.setattr(ops, "update_room_story", self.update)
        monkeypatch.setattr(ops, "remove_room_story", self.remove)

    def room(self, room_id, contract=None, offers=()):
        self.rooms[room_id] = {"contract": contract, "offers": list(offers), "stories": []}
        return room_id

    def story(self, room_id, message, *, by="Ana Freelancer", at=None, attachments=()):
        at = at or clock.now()
        story = {
            "id": str(next(self.ids)),
            "createdDateTime": iso(at),
            "updatedDateTime": iso(at),
            "message": message,
            "user": {"name": by},
            "attachments": list(attachments),
            "_at": at,
        }
        self.rooms[room_id]["stories"].append(story)
        return story

    def _room(self, room_id) -> ops.Room:
        room = self.rooms[room_id]
        stories = sorted(room["stories"], key=lambda s: s["_at"])
        latest = (
            {k: stories[-1][k] for k in ("id", "createdDateTime", "message")} if stories else None
        )
        return ops.Room.model_validate(
            {"id": room_id, "roomName": f"room {room_id}", "contractId": room["contract"],
             "offerIds": room["offers"], "latestStory": latest}
        )  # fmt: skip

    def room_list(self, client, since, *, after=None, **_):
        self.calls.append(("roomList", since))
        active = [
            self._room(rid)
            for rid, room in self.rooms.items()
            if since is None or any(s["_at"] >= since for s in room["stories"])
        ]
        return ops.Page[ops.Room](items=active)

    def room_stories(self, client, room_id, since=None, *, after=None, **_):
        self.calls.append(("roomStories", room_id, since))
        stories = [
            ops.RoomStory.model_validate({k: v for k, v in s.items() if k != "_at"})
            for s in sorted(self.rooms[room_id]["stories"], key=lambda s: s["_at"])
            if since is None or s["_at"] >= since
        ]
        return ops.Page[ops.RoomStory](items=stories)

    def send(self, client, room_id, message):
        self.calls.append(("createRoomStoryV2", room_id, message))
        story = self.story(room_id, message, by="Rita Requester")
        if self.crash_after_send:
            self.crash_after_send = False
            raise Crash("send")
        return ops.RoomStory.model_validate({"id": story["id"], "message": message})

    def _story(self, room_id, story_id):
        for story in self.rooms[room_id]["stories"]:
            if story["id"] == story_id:
                return story
        raise PermanentUpworkError(f"Story {story_id!r} not found in this organization.")

    def update(self, client, room_id, story_id, message):
        self.calls.append(("updateRoomStoryV2", room_id, story_id, message))
        story = self._story(room_id, story_id)
        story["message"], story["updatedDateTime"] = message, iso(clock.now())

    def remove(self, client, room_id, story_id):
        self.calls.append(("removeRoomStory", room_id, story_id))
        self.rooms[room_id]["stories"].remove(self._story(room_id, story_id))
        if self.crash_after_send:
            self.crash_after_send = False
            raise Crash("remove")

    def contract_room(self, client, contract_id):
        self.calls.append(("contractRoom", contract_id))
        for rid, room in self.rooms.items():
            if room["contract"] == contract_id:
                return self._room(rid)
        return None

    def offer_room(self, client, offer_id):
        self.calls.append(("offerRoom", offer_id))
        for rid, room in self.rooms.items():
            if offer_id in room["offers"]:
                return self._room(rid)
        return None

    def messages(self, room_id) -> list[str]:
        return [s["message"] for s in self.rooms[room_id]["stories"]]
