"""``POST /hooks/teams``: only the Bot Connector gets in (its JWT), channel activities go to the
inbox once and on to the message handlers, card clicks are answered by the card handlers once."""

from __future__ import annotations

import json
import logging

import pytest

from gigbridge import clock
from gigbridge.integrations.teams import directory, tasks, views
from gigbridge.integrations.teams.models import TeamsInvoke, TeamsMember
from gigbridge.jobs.actions import run
from gigbridge.jobs.models import InboxEvent, OutboxJob

from .conftest import (
    _OTHER_KEY,
    ALICE_AAD,
    APP_ID,
    CHANNEL,
    GROUP_ID,
    KID,
    activity,
    card_invoke,
    jwk,
    post,
    token,
)


@pytest.fixture
def alice(db):
    return TeamsMember.objects.create(
        aad_object_id=ALICE_AAD,
        email="alice@contoso.example",
        name="Alice Adams",
        resolved_at=clock.now(),
        updated_at=clock.now(),
    )


def security_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "gigbridge.security"]


# -- who may post ---------------------------------------------------------------------------------


def test_a_connector_token_gets_a_channel_message_into_the_inbox(bot, alice, caplog):
    response = post(activity(text="hello"))
    assert response.status_code == 200
    event = InboxEvent.objects.get()
    assert (event.source, event.external_id) == ("teams", "1700000000002:message")
    assert OutboxJob.objects.get().kind == "teams.activity"
    assert not security_lines(caplog)


@pytest.mark.parametrize(
    ("auth", "reason"),
    [
        (None, "no bearer token"),
        ("Basic abc", "no bearer token"),
        ("Bearer not-a-jwt", "not a JWT"),
        (lambda: f"Bearer {token(iss='https://sts.windows.net/x/')}", "another issuer"),
        (lambda: f"Bearer {token(aud='some-other-bot')}", "another audience"),
        (lambda: f"Bearer {token(kid='unknown-kid')}", "unknown signing key"),
        (lambda: f"Bearer {token(kid=None)}", "no key id"),
        (lambda: f"Bearer {token(issued=0)}", "expired"),
        (lambda: f"Bearer {token(key=_OTHER_KEY)}", "bad signature"),
        (lambda: f"Bearer {token(alg='none')}", "RS256"),
        (lambda: f"Bearer {token(alg='HS256')}", "RS256"),
    ],
)
def test_a_bad_token_is_401_and_nothing_is_stored(bot, caplog, auth, reason):
    secret_text = "confidential words"
    header = auth() if callable(auth) else auth
    response = post(activity(text=secret_text), auth=header)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert not InboxEvent.objects.exists()
    lines = security_lines(caplog)
    assert len(lines) == 1 and reason in lines[0]
    assert secret_text not in caplog.text and "eyJ" not in caplog.text


def test_a_token_within_five_minutes_of_skew_is_taken(bot):
    import time

    assert (
        post(activity(), auth=f"Bearer {token(issued=time.time() - 300 - 200)}").status_code == 200
    )


def test_a_token_for_another_service_url_is_403(bot, caplog):
    response = post(activity(), auth=f"Bearer {token(serviceUrl='https://evil.example/teams/')}")
    assert response.status_code == 403
    assert not InboxEvent.objects.exists()
    assert "serviceUrl" in security_lines(caplog)[0]


def test_a_token_without_service_url_is_403(bot):
    assert post(activity(), auth=f"Bearer {token(serviceUrl=None)}").status_code == 403
    assert not InboxEvent.objects.exists()


def test_a_key_endorsed_for_another_channel_is_refused(bot):
    bot.keys = [jwk(_OTHER_KEY, KID, endorsements=["webchat"])]
    assert post(activity(), auth=f"Bearer {token(key=_OTHER_KEY)}").status_code == 403


def test_a_rotated_key_is_fetched_once_and_forged_kids_do_not_refetch(bot, frozen_now):
    assert post(activity(id="m-1")).status_code == 200
    fetched = bot.fetches
    bot.keys.append(jwk(_OTHER_KEY, "rotated"))
    frozen_now(minutes=2)  # not the monotonic clock: the key set has its own; move it instead
    from gigbridge.integrations.teams import validation

    validation._keys._tried_at -= 120
    assert (
        post(activity(id="m-2"), auth=f"Bearer {token(key=_OTHER_KEY, kid='rotated')}").status_code
        == 200
    )
    assert bot.fetches == fetched + 2  # metadata and keys, once
    for i in range(5):
        post(activity(id=f"x-{i}"), auth=f"Bearer {token(kid=f'forged-{i}')}")
    assert bot.fetches == fetched + 2


def test_no_bot_configured_refuses(settings, db, keys):
    settings.TEAMS = {**settings.TEAMS, "app_id": None, "app_password": None}
    assert post(activity()).status_code == 404
    assert not InboxEvent.objects.exists()


def test_a_body_too_large_is_413_before_anything(bot, caplog):
    response = post(activity(text="x" * (views.MAX_BODY + 1)))
    assert response.status_code == 413
    assert not InboxEvent.objects.exists()
    assert len(security_lines(caplog)) == 1


def test_a_malformed_activity_is_a_clear_400(bot):
    response = post({"id": 5, "serviceUrl": "https://127.0.0.1:8443/botframework/teams/"})
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"type", "id"} <= fields
    assert post(b"not json").status_code == 400
    missing = post({"type": "message", "serviceUrl": "https://127.0.0.1:8443/botframework/teams/"})
    assert missing.status_code == 400 and "conversation.id" in missing.json()["detail"]


def test_an_activity_of_another_channel_or_none_is_refused(bot):
    other = activity()
    other["channelId"] = "webchat"
    assert post(other).status_code == 403  # the signing key is endorsed for msteams only
    none = activity()
    del none["channelId"]
    answer = post(none)
    assert answer.status_code == 400 and "channelId" in answer.json()["detail"]
    assert not InboxEvent.objects.exists()


def test_a_deeply_nested_body_is_refused_not_a_500(bot, caplog):
    deep = b"[" * 200_000  # within the size bound, deeper than the JSON parser recurses
    assert post(deep, auth=None).status_code == 401  # no token: refused as usual
    assert post(deep).status_code == 400  # a token: "not a JSON object"
    assert not InboxEvent.objects.exists()


def test_get_is_not_allowed(bot):
    from django.test import Client

    assert Client().get("/hooks/teams").status_code == 405


# -- channel messages -----------------------------------------------------------------------------


def test_a_duplicate_delivery_is_stored_once(bot, alice):
    body = activity(text="hello")
    assert post(body).status_code == 200
    assert post(body).status_code == 200
    assert InboxEvent.objects.count() == 1 and OutboxJob.objects.count() == 1


def test_a_message_its_edits_and_its_deletion_reach_the_handlers(bot, alice, handlers):
    seen = []
    handlers.on_channel_message(seen.append)
    root = "1700000000001"
    post(activity(id=root, root=root, text="<p>Kick-off &amp; <b>scope</b></p>"))
    post(
        activity(
            id="r-1", root=root, replyToId=root, text="<at>Gigbridge</at> looks good<br>thanks"
        )
    )
    post(
        activity(
            "messageUpdate",
            id="r-1",
            root=root,
            replyToId=root,
            text="looks great",
            channelData={
                "eventType": "editMessage",
                "team": {"aadGroupId": GROUP_ID},
                "channel": {"id": CHANNEL},
            },
        )
    )
    post(
        activity(
            "messageUpdate",
            id="r-1",
            root=root,
            replyToId=root,
            text="looks perfect",
            channelData={
                "eventType": "editMessage",
                "team": {"aadGroupId": GROUP_ID},
                "channel": {"id": CHANNEL},
            },
        )
    )
    post(
        activity(
            "messageDelete",
            id="r-1",
            root=root,
            replyToId=root,
            text=None,
            channelData={
                "eventType": "softDeleteMessage",
                "team": {"aadGroupId": GROUP_ID},
                "channel": {"id": CHANNEL},
            },
        )
    )
    assert InboxEvent.objects.count() == 5
    for job in OutboxJob.objects.order_by("pk"):
        assert run(job.pk).status == "done"
    assert [(m.kind, m.activity_id, m.text) for m in seen] == [
        ("created", root, "Kick-off & scope"),
        ("created", "r-1", "looks good\nthanks"),
        ("edited", "r-1", "looks great"),
        ("edited", "r-1", "looks perfect"),
        ("deleted", "r-1", ""),
    ]
    first = seen[1]
    assert first.conversation_id == f"{CHANNEL};messageid={root}"
    assert first.root_activity_id == root
    assert (first.team_id, first.channel_id) == (GROUP_ID, CHANNEL)
    assert first.sender.email == "alice@contoso.example"
    assert first.sender.aad_object_id == ALICE_AAD
    assert first.timestamp.isoformat() == "2026-03-02T09:15:00+00:00"
    assert InboxEvent.objects.filter(handled_at__isnull=True).count() == 0


def test_a_handler_failure_retries_the_job(bot, alice, handlers):
    calls = []

    def flaky(message):
        calls.append(message.activity_id)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")

    handlers.on_channel_message(flaky)
    post(activity(text="hi"))
    job = OutboxJob.objects.get()
    assert run(job.pk).status == "retry"
    OutboxJob.objects.filter(pk=job.pk).update(next_attempt_at=clock.now())
    assert run(job.pk).status == "done"
    assert calls == ["1700000000002", "1700000000002"]


def test_personal_messages_and_other_activities_are_not_stored(bot, alice):
    assert post(activity(conversation_type="personal", text="hi bot")).status_code == 200
    assert post(activity("conversationUpdate", id="cu-1")).status_code == 200
    assert post(activity("invoke", id="inv-1", name="composeExtension/query")).status_code == 200
    assert not InboxEvent.objects.exists()
    # The personal chat was learnt for sending to Alice later.
    alice.refresh_from_db()
    assert alice.conversation_id == "a:personal-1"
    assert alice.service_url == "https://127.0.0.1:8443/botframework/teams/"


def test_sender_address_comes_from_graph_and_is_cached(bot, handlers, monkeypatch):
    asked = []

    class FakeGraph:
        def get_user(self, user_id, select=None):
            asked.append(user_id)
            return {"id": ALICE_AAD, "mail": "Alice@Contoso.example", "displayName": "Alice"}

    monkeypatch.setattr(directory.graph, "configured", lambda: True)
    monkeypatch.setattr(directory.graph, "client", lambda: FakeGraph())
    assert directory.email_of(ALICE_AAD) == "alice@contoso.example"
    assert directory.email_of(ALICE_AAD) == "alice@contoso.example"
    assert asked == [ALICE_AAD]


# -- card actions ---------------------------------------------------------------------------------


def test_a_card_action_is_answered_by_its_handler(bot, alice, handlers):
    got = []

    @handlers.on_card_action("approval.")
    def decide(action):
        got.append(action)
        return {
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [{"type": "TextBlock", "text": "Approved"}],
        }

    body = card_invoke("approval.approve", {"step": 7, "comment": "fine"})
    response = post(body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["statusCode"] == 200
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert answer["value"]["body"][0]["text"] == "Approved"
    (action,) = got
    assert action.verb == "approval.approve"
    assert action.data["step"] == 7 and action.inputs["comment"] == "fine"
    assert action.sender.email == "alice@contoso.example"
    assert action.activity_id == "card-msg-1" and action.conversation_id == "a:personal-1"
    assert not InboxEvent.objects.exists()


def test_the_same_invoke_delivered_twice_is_decided_once(bot, alice, handlers):
    decisions = []

    @handlers.on_card_action("approval.")
    def decide(action):
        decisions.append(action.verb)
        return {
            "type": "AdaptiveCard",
            "body": [{"type": "TextBlock", "text": f"#{len(decisions)}"}],
        }

    body = card_invoke()
    first, second = post(body).json(), post(body).json()
    assert first == second and decisions == ["approval.approve"]
    assert TeamsInvoke.objects.count() == 1


def test_no_handler_answers_an_error_response(bot, alice, handlers):
    response = post(card_invoke("unknown.verb"))
    assert response.status_code == 200
    answer = response.json()
    assert answer["type"] == "application/vnd.microsoft.error"
    assert answer["statusCode"] == 400 and answer["value"]["code"] == "NotSupported"


def test_a_failing_handler_answers_an_error_and_may_be_retried(bot, alice, handlers, caplog):
    outcomes = iter([RuntimeError("boom"), {"type": "AdaptiveCard", "body": []}])

    @handlers.on_card_action("approval.")
    def decide(action):
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    body = card_invoke()
    with caplog.at_level(logging.ERROR):
        failed = post(body)
    assert failed.status_code == 200
    assert failed.json()["statusCode"] == 500
    assert failed.json()["type"] == "application/vnd.microsoft.error"
    assert post(body).json()["statusCode"] == 200


def test_an_untyped_failure_finding_who_clicked_is_an_error_response(
    bot, alice, handlers, monkeypatch
):
    @handlers.on_card_action("approval.")
    def decide(action):
        return {"type": "AdaptiveCard", "body": []}

    def broken(aad_object_id):
        raise KeyError("mail")

    monkeypatch.setattr(directory, "email_of", broken)
    failed = post(card_invoke())
    assert failed.status_code == 200
    assert failed.json()["statusCode"] == 503 and not TeamsInvoke.objects.exists()


def test_a_malformed_card_action_is_an_error_response(bot, alice, handlers):
    body = card_invoke()
    body["value"] = {"action": {"type": "Action.Submit"}}
    assert post(body).json()["statusCode"] == 400


def test_plain_text_of_teams_html():
    assert tasks.plain_text("<div>a&nbsp;b</div><div>c</div>") == "a b\nc"
    assert tasks.plain_text("plain") == "plain"
    assert json.dumps(tasks.plain_text("<at>Bot</at> hi", drop=("Bot",))) == '"hi"'
    assert APP_ID
