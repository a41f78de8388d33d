"""The Graph conformance checker: its reference subset is current, and it judges bodies right.

Plain pytest, no database: ``pytest gigbridge/integrations -p no:django``.
The sample bodies follow the examples in Microsoft's Graph v1.0 documentation.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

from gigbridge.integrations.msgraph import conformance
from gigbridge.integrations.msgraph.conformance import (
    SUBSET_PATH,
    UnknownActionError,
    UnknownTypeError,
    load_subset,
    validate,
    validate_action,
    validate_action_result,
    validate_collection_response,
)

REPO_ROOT = Path(__file__).resolve().parents[4]
GENERATOR = REPO_ROOT / "scripts" / "gen_graph_subset.py"
REFERENCE = REPO_ROOT.parent / "shared" / "reference" / "msgraph" / "cleanMetadata-v1.0.xml"
needs_reference = pytest.mark.skipif(
    not REFERENCE.is_file(),
    reason=f"Graph reference not found at ../shared/reference/msgraph/ ({REFERENCE})",
)

USER_ID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
TENANT_ID = "84bd8158-6d4d-4958-8b9f-9d6445542f95"


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_graph_subset", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- (a) the committed subset is what the generator makes from the reference ---------------------


@needs_reference
def test_committed_subset_is_regenerated_byte_for_byte():
    generator = load_generator()
    expected = generator.render(generator.build_subset(REFERENCE)).encode("utf-8")
    assert SUBSET_PATH.read_bytes() == expected, (
        f"{SUBSET_PATH.relative_to(REPO_ROOT)} disagrees with the reference or the generator: "
        "run `python scripts/gen_graph_subset.py` and commit the result"
    )


@needs_reference
def test_subset_header_names_the_reference_it_was_made_from():
    source = load_subset().data["source"]
    assert source["file"] == "msgraph/cleanMetadata-v1.0.xml"
    assert source["sha256"] == hashlib.sha256(REFERENCE.read_bytes()).hexdigest(), (
        "../shared/reference/msgraph/cleanMetadata-v1.0.xml changed since the subset was made: "
        "run `python scripts/gen_graph_subset.py`"
    )


def test_generator_check_mode_detects_a_stale_file(tmp_path):
    if not REFERENCE.is_file():
        pytest.skip(f"Graph reference not found at {REFERENCE}")
    generator = load_generator()
    stale = tmp_path / "subset.json"
    stale.write_text("{}\n", encoding="utf-8")
    assert generator.main([str(REFERENCE), "--output", str(stale), "--check"]) == 1
    assert generator.main([str(REFERENCE), "--output", str(stale)]) == 0
    assert generator.main([str(REFERENCE), "--output", str(stale), "--check"]) == 0
    assert stale.read_bytes() == SUBSET_PATH.read_bytes()


def test_subset_is_closed_under_base_and_property_types():
    """Works without the reference: everything the subset mentions (bar navigation targets)."""
    subset = load_subset()
    missing = set()
    for name, entry in subset.types.items():
        if entry["kind"] == "enum":
            assert entry["members"], name
            continue
        referenced = [entry["base"]] + [p["type"] for p in entry["properties"].values()]
        missing |= {t for t in referenced if t and not t.startswith("Edm.")} - subset.types.keys()
    for action in subset.actions.values():
        referenced = [p["type"] for p in action["parameters"].values()]
        referenced += [action["binding"]["type"]]
        referenced += [action["returns"]["type"]] if action["returns"] else []
        missing |= {t for t in referenced if not t.startswith("Edm.")} - subset.types.keys()
    assert not missing
    assert set(subset.data["roots"]) <= subset.types.keys()
    assert json.loads(SUBSET_PATH.read_text(encoding="utf-8")) == subset.data


# -- (b) real bodies from Graph's documentation pass -----------------------------------------------

USER = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
    "businessPhones": ["+1 425 555 0109"],
    "displayName": "Adele Vance",
    "givenName": "Adele",
    "jobTitle": "Retail Manager",
    "mail": "AdeleV@contoso.com",
    "mobilePhone": "+1 425 555 0109",
    "officeLocation": "18/2111",
    "preferredLanguage": "en-US",
    "surname": "Vance",
    "userPrincipalName": "AdeleV@contoso.com",
    "id": USER_ID,
}

GUEST_USER = {
    "id": "243b1de4-ad9f-421c-a933-d55305fb165d",
    "accountEnabled": True,
    "createdDateTime": "2026-01-02T03:04:05Z",
    "creationType": "Invitation",
    "displayName": "Robin Freelancer",
    "externalUserState": "PendingAcceptance",
    "externalUserStateChangeDateTime": "2026-01-02T03:04:05.1234567Z",
    "identities": [
        {
            "signInType": "userPrincipalName",
            "issuer": "contoso.onmicrosoft.com",
            "issuerAssignedId": "robin_example.com#EXT#@contoso.onmicrosoft.com",
        },
    ],
    "mail": "robin@example.com",
    "otherMails": [],
    "userPrincipalName": "robin_example.com#EXT#@contoso.onmicrosoft.com",
    "userType": "Guest",
}

INVITATION_REQUEST = {
    "invitedUserEmailAddress": "admin@fabrikam.com",
    "inviteRedirectUrl": "https://myapp.contoso.com",
    "sendInvitationMessage": True,
    "invitedUserMessageInfo": {"customizedMessageBody": "Welcome to the Gigbridge project team."},
}

INVITATION_RESPONSE = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#invitations/$entity",
    "id": "7b92124c-9fa9-406f-8b8e-225df8376ba9",
    "inviteRedeemUrl": "https://invitations.microsoft.com/redeem/?tenant=04dcc6ab-388a-4559-b527"
    "-fbec656300ea&user=7b92124c-9fa9-406f-8b8e-225df8376ba9&ticket=VV9dmiExBsfRIVNFjb9ITj9VXAd07"
    "Ypv4gTg%2f8PiuJs%3d&lc=1033&ver=2.0",
    "invitedUserDisplayName": "yyy",
    "invitedUserType": "Guest",
    "invitedUserEmailAddress": "yyy@test.com",
    "sendInvitationMessage": False,
    "resetRedemption": False,
    "invitedUserMessageInfo": {
        "messageLanguage": None,
        "ccRecipients": [{"emailAddress": {"name": None, "address": None}}],
        "customizedMessageBody": None,
    },
    "inviteRedirectUrl": "https://myapp.contoso.com",
    "status": "Completed",
    "invitedUser": {"id": "243b1de4-ad9f-421c-a933-d55305fb165d"},
}

PLANNER_TASK = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#planner/tasks/$entity",
    "@odata.etag": 'W/"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBAWCc="',
    "createdBy": {"user": {"id": "6463a5ce-2119-4198-9f2a-628761df4a62"}},
    "planId": "xqQg5FS2LkCp935s-FIFm2QAFkHM",
    "bucketId": "gcrYAaAkgU2EQUvpkNNXLGQAGTtu",
    "title": "title-value",
    "orderHint": "9223370609546166567W",
    "assigneePriority": '90057581"',
    "percentComplete": 0,
    "priority": 5,
    "createdDateTime": "2015-03-25T18:36:49.2407981Z",
    "dueDateTime": None,
    "hasDescription": False,
    "previewType": "automatic",
    "referenceCount": 0,
    "checklistItemCount": 0,
    "activeChecklistItemCount": 0,
    "appliedCategories": {"category1": True},
    "assignments": {
        "fbab97d0-4932-4511-b675-204639209557": {
            "@odata.type": "#microsoft.graph.plannerAssignment",
            "assignedBy": {"user": {"id": "1e9955d2-6acd-45bf-86d3-b546fdc795eb"}},
            "assignedDateTime": "2015-03-25T18:38:21.956Z",
            "orderHint": "RWk1",
        }
    },
    "id": "01gzSlKkIUSUl6DF_EilrmQAKDhh",
}

PLANNER_TASK_CREATE = {
    "planId": "xqQg5FS2LkCp935s-FIFm2QAFkHM",
    "bucketId": "hsOf2dhOJkqyYYZEtdzDe2QAIUCR",
    "title": "Update client list",
    "assignments": {
        "fbab97d0-4932-4511-b675-204639209557": {
            "@odata.type": "#microsoft.graph.plannerAssignment",
            "orderHint": " !",
        }
    },
}

DRIVE_ITEM_INVITE = {
    "recipients": [{"email": "robin@contoso.org"}],
    "message": "Here's the file that we're collaborating on.",
    "requireSignIn": True,
    "sendInvitation": True,
    "roles": ["write"],
    "expirationDateTime": "2018-07-15T14:00:00.000Z",
}

DRIVE_ITEM_INVITE_RESPONSE = {
    "value": [
        {
            "@odata.type": "#microsoft.graph.permission",
            "id": "CCFC7CA3-7A19-4D57-8CEF-149DB9DDFA62",
            "roles": ["write"],
            "grantedTo": {
                "user": {
                    "email": "robin@contoso.org",
                    "id": "42F177F1-22C0-4BE3-900D-4507125C5C20",
                    "displayName": "Robin Danielsen",
                }
            },
            "invitation": {"email": "robin@contoso.org", "signInRequired": True},
            "expirationDateTime": "2018-07-15T14:00:00.000Z",
        }
    ]
}

DRIVE_ITEM = {
    "@microsoft.graph.downloadUrl": "https://contoso.sharepoint.com/_layouts/15/download.aspx?x=1",
    "createdBy": {"user": {"id": "efee1b77-fb3b-4f65-99d6-274c11914d12", "displayName": "Ryan"}},
    "createdDateTime": "2016-03-21T20:01:37Z",
    "cTag": '"c:{86EB4C8E-D20D-46B9-AD41-23B8868DDA8A},0"',
    "eTag": '"{86EB4C8E-D20D-46B9-AD41-23B8868DDA8A},1"',
    "file": {
        "mimeType": "application/pdf",
        "hashes": {"quickXorHash": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
    },
    "id": "01NKDM7HMOJTVYMDOSXFDK2QJDXCDI3WUK",
    "lastModifiedDateTime": "2016-03-21T20:01:37Z",
    "name": "statement-of-work.pdf",
    "parentReference": {
        "driveId": "b!-RIj2DuyvEyV1T4NlOaMHk8XkS_I8MdFlUCq1BlcjgmhRfAj3-Z8RY2VpuvV_tpd",
        "driveType": "business",
        "id": "01NKDM7HNBFNI3FOYIXFC3TOZZHYMMRYLX",
        "path": "/drive/root:/Engagements",
    },
    "size": 157286,
    "webUrl": "https://contoso.sharepoint.com/sites/projects/Shared%20Documents/sow.pdf",
}

CREATE_UPLOAD_SESSION = {
    "item": {
        "@microsoft.graph.conflictBehavior": "rename",
        "description": "Deliverable for milestone 2",
        "fileSize": 1234567,
        "name": "deliverable.zip",
    }
}

UPLOAD_SESSION = {
    "uploadUrl": "https://sn3302.up.1drv.com/up/fe6987415ace7X4e1eF866337",
    "expirationDateTime": "2015-01-29T09:21:55.523Z",
    "nextExpectedRanges": ["0-"],
}

SEND_MAIL = {
    "message": {
        "subject": "Approval needed: freelance request",
        "body": {"contentType": "html", "content": "<p>Please review the request.</p>"},
        "toRecipients": [{"emailAddress": {"address": "frannis@contoso.com"}}],
        "ccRecipients": [{"emailAddress": {"address": "danas@contoso.com", "name": "Dana"}}],
    },
    "saveToSentItems": False,
}

TEAM_MEMBER_ADD = {
    "@odata.type": "#microsoft.graph.aadUserConversationMember",
    "roles": ["guest"],
    "user@odata.bind": "https://graph.microsoft.com/v1.0/users('8b081ef6-4792-4def-b2c9-c363a1bf41d5')",
}

TEAM_MEMBER = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#teams('ee0f5ae2-8bc6-4ae5-8466-"
    "7daeebbfa062')/members/microsoft.graph.aadUserConversationMember/$entity",
    "@odata.type": "#microsoft.graph.aadUserConversationMember",
    "id": "ZWUwZjVhZTItOGJjNi00YWU1LTg0NjYtN2RhZWViYmZhMDYyIyM3Mzc2MWYwNi0yYWM5LTQ2OWMtOWYxMC0y",
    "displayName": "Cameron White",
    "roles": ["owner"],
    "userId": "50dffbae-ad0f-428e-a86f-f53b0acfc641",
    "email": "CameronW@M365x987948.OnMicrosoft.com",
    "tenantId": TENANT_ID,
    "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
}

MEMBERS_ADD_ACTION = {
    "values": [
        {
            "@odata.type": "microsoft.graph.aadUserConversationMember",
            "roles": [],
            "user@odata.bind": "https://graph.microsoft.com/v1.0/users('18a80140-b0fb-4489-b360-2f6e')",
        },
        {
            "@odata.type": "microsoft.graph.aadUserConversationMember",
            "roles": ["owner"],
            "user@odata.bind": "https://graph.microsoft.com/v1.0/users('86503198-b81b-43fe-81ee-ad45')",
        },
    ]
}

MEMBERS_ADD_RESULT = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.actionResultPart)",
    "value": [
        {
            "@odata.type": "#microsoft.graph.aadUserConversationMemberResult",
            "userId": "18a80140-b0fb-4489-b360-2f6efaf225a0",
            "error": None,
        },
        {
            "@odata.type": "#microsoft.graph.aadUserConversationMemberResult",
            "userId": "86503198-b81b-43fe-81ee-ad45b8848ac9",
            "error": {"code": "NotFound", "message": "user not found"},
        },
    ],
}

SUBSCRIPTION_REQUEST = {
    "changeType": "created,updated",
    "notificationUrl": "https://webhook.azurewebsites.net/api/send/myNotifyClient",
    "resource": "me/mailFolders('Inbox')/messages",
    "expirationDateTime": "2016-11-20T18:23:45.9356913Z",
    "clientState": "secretClientValue",
    "latestSupportedTlsVersion": "v1_2",
}

SUBSCRIPTION_RESPONSE = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
    "id": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
    "resource": "me/mailFolders('Inbox')/messages",
    "applicationId": "24d3b144-21ae-4080-943f-7067b395b913",
    "changeType": "created,updated",
    "clientState": "secretClientValue",
    "notificationUrl": "https://webhook.azurewebsites.net/api/send/myNotifyClient",
    "expirationDateTime": "2016-11-20T18:23:45.9356913Z",
    "creatorId": "8ee44408-0679-472c-bc2a-692812af3437",
    "latestSupportedTlsVersion": "v1_2",
    "encryptionCertificate": None,
    "encryptionCertificateId": None,
    "includeResourceData": False,
    "lifecycleNotificationUrl": None,
    "notificationQueryOptions": None,
    "notificationUrlAppId": None,
}

CHANGE_NOTIFICATIONS = {
    "value": [
        {
            "id": "lsgTZMr9KwAAA",
            "subscriptionId": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
            "subscriptionExpirationDateTime": "2016-03-19T22:11:09.952Z",
            "clientState": "secretClientValue",
            "changeType": "created",
            "resource": f"users/{USER_ID}@{TENANT_ID}/messages/AAMkADk0MGFkODE3LWE4MmYtNDRhOS0",
            "tenantId": TENANT_ID,
            "resourceData": {
                "@odata.type": "#Microsoft.Graph.Message",
                "@odata.id": f"Users/{USER_ID}@{TENANT_ID}/Messages/AAMkADk0MGFkODE3LWE4",
                "@odata.etag": 'W/"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf"',
                "id": "AAMkADk0MGFkODE3LWE4MmYtNDRhOS0",
            },
        }
    ],
    "validationTokens": ["eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl"],
}

CHAT_MESSAGE = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#teams('fbe2bf47-16c8-47cf-b4a5-"
    "4b9b187c508b')/channels('19%3A4a95f7d8db4c4e7fae857bcebe0623e6%40thread.tacv2')/messages/"
    "$entity",
    "id": "1616990032035",
    "replyToId": None,
    "etag": "1616990032035",
    "messageType": "message",
    "createdDateTime": "2021-03-29T03:53:52.035Z",
    "lastModifiedDateTime": "2021-03-29T03:53:52.035Z",
    "lastEditedDateTime": None,
    "deletedDateTime": None,
    "subject": None,
    "summary": None,
    "chatId": None,
    "importance": "normal",
    "locale": "en-us",
    "webUrl": "https://teams.microsoft.com/l/message/19%3A4a95f7d8db4c4e7fae857bcebe0623e6%40"
    "thread.tacv2/1616990032035",
    "policyViolation": None,
    "eventDetail": None,
    "from": {
        "application": None,
        "device": None,
        "user": {
            "@odata.type": "#microsoft.graph.teamworkUserIdentity",
            "id": "8ea0e38b-efb3-4757-924a-5f94061cf8c2",
            "displayName": "Robin Kline",
            "userIdentityType": "aadUser",
            "tenantId": "2432b57b-0abd-43db-aa7b-16eadd115d34",
        },
    },
    "body": {"contentType": "text", "content": "Hello World"},
    "channelIdentity": {
        "teamId": "fbe2bf47-16c8-47cf-b4a5-4b9b187c508b",
        "channelId": "19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2",
    },
    "attachments": [],
    "mentions": [],
    "reactions": [],
    "messageHistory": [],
}

GROUP_CREATE = {
    "description": "Self help community for library",
    "displayName": "Library Assist",
    "groupTypes": ["Unified"],
    "mailEnabled": True,
    "mailNickname": "library",
    "securityEnabled": False,
    "owners@odata.bind": ["https://graph.microsoft.com/v1.0/users/26be1845-4119-4801-a799-aea7"],
    "members@odata.bind": ["https://graph.microsoft.com/v1.0/users/ff7cb387-6688-423c-8188-3da9"],
}

TEAM_CREATE = {
    "template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
    "displayName": "Engagement: data pipeline",
    "description": "Freelance engagement workspace",
    "visibility": "private",
    "members": [TEAM_MEMBER_ADD],
    "channels": [{"displayName": "Deliverables", "isFavoriteByDefault": True}],
}

TEAMS_ASYNC_OPERATION = {
    "@odata.type": "#microsoft.graph.teamsAsyncOperation",
    "id": "8ce5f22e-3a50-4e6c-8e6b-2f6c1c1e3e3f",
    "operationType": "createTeam",
    "createdDateTime": "2026-01-02T03:04:05.1234567Z",
    "status": "succeeded",
    "lastActionDateTime": "2026-01-02T03:04:35Z",
    "attemptsCount": 1,
    "targetResourceId": "fbe2bf47-16c8-47cf-b4a5-4b9b187c508b",
    "targetResourceLocation": "/teams('fbe2bf47-16c8-47cf-b4a5-4b9b187c508b')",
    "error": None,
}

GROUP_MEMBERS_PAGE = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
    "@odata.nextLink": "https://graph.microsoft.com/v1.0/groups/02bd9fd6/members?$skiptoken=X",
    "@odata.count": 2,
    "value": [
        {"@odata.type": "#microsoft.graph.user", "id": USER_ID, "displayName": "Adele Vance"},
        {"@odata.type": "#microsoft.graph.group", "id": "02bd9fd6-8f93-4758-87c3-1fb73740a315"},
    ],
}


@pytest.mark.parametrize(
    ("type_name", "body", "direction"),
    [
        ("user", USER, "response"),
        ("user", GUEST_USER, "response"),
        ("microsoft.graph.user", USER, "response"),
        ("invitation", INVITATION_REQUEST, "request"),
        ("invitation", INVITATION_RESPONSE, "response"),
        ("plannerTask", PLANNER_TASK, "response"),
        ("plannerTask", PLANNER_TASK_CREATE, "request"),
        ("plannerTask", {"assignments": {"fbab97d0-4932-4511-b675-204639209557": None}}, "request"),
        ("driveItem", DRIVE_ITEM, "response"),
        ("uploadSession", UPLOAD_SESSION, "response"),
        ("conversationMember", TEAM_MEMBER_ADD, "request"),
        ("conversationMember", TEAM_MEMBER, "response"),
        ("subscription", SUBSCRIPTION_REQUEST, "request"),
        ("subscription", SUBSCRIPTION_RESPONSE, "response"),
        ("changeNotificationCollection", CHANGE_NOTIFICATIONS, "request"),
        ("chatMessage", CHAT_MESSAGE, "response"),
        ("group", GROUP_CREATE, "request"),
        ("team", TEAM_CREATE, "request"),
        ("teamsAsyncOperation", TEAMS_ASYNC_OPERATION, "response"),
        ("message", SEND_MAIL["message"], "request"),
    ],
)
def test_documented_bodies_pass(type_name, body, direction):
    assert validate(type_name, body, direction=direction) == []


@pytest.mark.parametrize(
    ("binding", "action", "body"),
    [
        ("driveItem", "invite", DRIVE_ITEM_INVITE),
        ("driveItem", "createUploadSession", CREATE_UPLOAD_SESSION),
        ("user", "sendMail", SEND_MAIL),
        ("user", "sendMail", {"Message": SEND_MAIL["message"], "SaveToSentItems": True}),
        ("conversationMember", "add", MEMBERS_ADD_ACTION),
        ("Collection(conversationMember)", "add", MEMBERS_ADD_ACTION),
        ("aadUserConversationMember", "add", MEMBERS_ADD_ACTION),
    ],
)
def test_documented_action_bodies_pass(binding, action, body):
    assert validate_action(binding, action, body) == []


@pytest.mark.parametrize(
    ("binding", "action", "body"),
    [
        ("driveItem", "invite", DRIVE_ITEM_INVITE_RESPONSE),
        ("driveItem", "createUploadSession", UPLOAD_SESSION),
        ("conversationMember", "add", MEMBERS_ADD_RESULT),
        ("user", "sendMail", None),
    ],
)
def test_documented_action_results_pass(binding, action, body):
    assert validate_action_result(binding, action, body) == []


def test_collection_responses_pass():
    assert validate_collection_response("directoryObject", GROUP_MEMBERS_PAGE) == []
    assert validate_collection_response("user", {"value": [USER, GUEST_USER]}) == []
    delta = {
        "@odata.deltaLink": "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=abc",
        "value": [{"id": USER_ID, "@removed": {"reason": "deleted"}}],
    }
    assert validate_collection_response("user", delta) == []


def test_expanded_navigation_is_checked_in_responses():
    team = {"id": "t1", "displayName": "Project", "members": [TEAM_MEMBER]}
    assert validate("team", team, direction="response") == []
    team["members"] = [{**TEAM_MEMBER, "roles": "owner"}]
    assert validate("team", team, direction="response") == [
        "team.members[0].roles: expected Collection(Edm.String), got str"
    ]


# -- (c) each kind of violation, with its message -------------------------------------------------


def test_unknown_property():
    body = {**INVITATION_REQUEST, "foo": 1}
    assert validate("invitation", body, direction="request") == ["invitation.foo: unknown property"]


def test_wrong_type():
    assert validate("user", {"accountEnabled": "true"}, direction="request") == [
        "user.accountEnabled: expected Edm.Boolean, got str"
    ]
    assert validate("plannerTask", {"percentComplete": True}, direction="request") == [
        "plannerTask.percentComplete: expected Edm.Int32, got bool"
    ]
    assert validate("plannerTask", {"priority": 5.0}, direction="request") == [
        "plannerTask.priority: expected Edm.Int32, got float"
    ]
    assert validate("user", {"businessPhones": "+1 425"}, direction="response") == [
        "user.businessPhones: expected Collection(Edm.String), got str"
    ]
    assert validate("invitation", {"invitedUserMessageInfo": "hi"}, direction="request") == [
        "invitation.invitedUserMessageInfo: "
        "expected microsoft.graph.invitedUserMessageInfo, got str"
    ]


def test_nested_wrong_type_names_the_path():
    body = {
        **INVITATION_REQUEST,
        "invitedUserMessageInfo": {"ccRecipients": [{"emailAddress": {"address": 42}}]},
    }
    assert validate("invitation", body, direction="request") == [
        "invitation.invitedUserMessageInfo.ccRecipients[0].emailAddress.address: "
        "expected Edm.String, got int"
    ]


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-02 03:04:05Z",  # no T
        "2026-01-02T03:04:05",  # no time zone
        "2026-02-30T03:04:05Z",  # no such day
        "2026-01-02T24:00:00Z",
        "2026-01-02T03:04:05+25:00",
        "2026-01-02",
        "yesterday",
    ],
)
def test_bad_datetime(value):
    body = {**SUBSCRIPTION_REQUEST, "expirationDateTime": value}
    assert validate("subscription", body, direction="request") == [
        f"subscription.expirationDateTime: expected Edm.DateTimeOffset, got {value!r}"
    ]


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04Z",
        "2026-01-02T03:04:05.1234567Z",
        "2026-01-02T03:04:05.123+02:00",
        "2026-01-02T03:04:05-08:00",
        "0001-01-01T00:00:00Z",
    ],
)
def test_good_datetime(value):
    body = {**SUBSCRIPTION_REQUEST, "expirationDateTime": value}
    assert validate("subscription", body, direction="request") == []


def test_bad_enum():
    body = {**CHAT_MESSAGE, "importance": "highest"}
    assert validate("chatMessage", body, direction="response") == [
        "chatMessage.importance: expected microsoft.graph.chatMessageImportance, got 'highest' "
        "(members: normal, high, urgent, unknownFutureValue)"
    ]
    # Member names are case-sensitive: Graph answers "html", so that is what we send.
    body = {"body": {"contentType": "HTML", "content": "<p>x</p>"}}
    assert validate("message", body, direction="request") == [
        "message.body.contentType: expected microsoft.graph.bodyType, got 'HTML' "
        "(members: text, html)"
    ]
    assert validate("chatMessage", {"importance": 1}, direction="request") == [
        "chatMessage.importance: expected microsoft.graph.chatMessageImportance, got int"
    ]


def test_null_in_non_nullable():
    assert validate("plannerTask", {"title": None}, direction="request") == [
        "plannerTask.title: expected Edm.String, got null (not nullable)"
    ]
    assert validate("plannerTask", {"dueDateTime": None}, direction="request") == []
    assert validate("user", {"businessPhones": None}, direction="response") == [
        "user.businessPhones: expected Collection(Edm.String), got null"
    ]
    assert validate("user", None, direction="response") == [
        "user: expected microsoft.graph.user, got null (not nullable)"
    ]


def test_wrong_odata_type():
    body = {**TEAM_MEMBER_ADD, "@odata.type": "#microsoft.graph.user"}
    assert validate("conversationMember", body, direction="request") == [
        "conversationMember.@odata.type: microsoft.graph.user does not derive from "
        "microsoft.graph.conversationMember"
    ]
    body = {**TEAM_MEMBER_ADD, "@odata.type": "#microsoft.graph.skypeUserConversationMember"}
    assert validate("conversationMember", body, direction="request") == [
        "conversationMember.@odata.type: unknown type microsoft.graph.skypeUserConversationMember "
        "(not in the reference subset; list it in ROOT_TYPES in scripts/gen_graph_subset.py and "
        "regenerate)"
    ]


def test_odata_type_selects_the_derived_type():
    # userId belongs to aadUserConversationMember, not to the abstract conversationMember.
    body = {key: value for key, value in TEAM_MEMBER.items() if key != "@odata.type"}
    assert validate("aadUserConversationMember", body, direction="response") == []
    assert validate("conversationMember", body, direction="response") == [
        "conversationMember: microsoft.graph.conversationMember is abstract: "
        "@odata.type must name a type derived from it"
    ]


def test_navigation_properties_in_requests_are_bound_not_inlined():
    body = {
        "@odata.type": "#microsoft.graph.aadUserConversationMember",
        "roles": [],
        "user": {"id": USER_ID},
    }
    assert validate("conversationMember", body, direction="request") == [
        "conversationMember.user: navigation property in a request: bind it with user@odata.bind"
    ]
    assert validate("group", {"members@odata.bind": "https://x/users/1"}, direction="request") == [
        "group.members@odata.bind: expected a list of URLs, got str"
    ]
    assert validate("group", {"displayName@odata.bind": "x"}, direction="request") == [
        "group.displayName@odata.bind: displayName is not a navigation property"
    ]
    assert validate("conversationMember", TEAM_MEMBER_ADD, direction="response") == [
        "conversationMember.user@odata.bind: @odata.bind is only allowed in requests"
    ]


def test_annotations():
    assert validate("plannerTask", {"@odata.etag": 5}, direction="response") == [
        "plannerTask.@odata.etag: expected a string, got int"
    ]
    assert validate("plannerTask", {"@contoso.flag": True}, direction="response") == [
        "plannerTask.@contoso.flag: unknown annotation"
    ]
    assert validate("invitation", {"foo@odata.type": "#String"}, direction="response") == [
        "invitation.foo@odata.type: annotates unknown property foo"
    ]
    assert validate_collection_response("user", {"value": [], "@odata.count": "2"}) == [
        "Collection(user).@odata.count: expected an integer, got str"
    ]


def test_open_types_accept_dynamic_properties_unless_strict():
    body = {"displayName": "Robin", "acountEnabled": True}  # misspelt
    assert validate("user", body, direction="request") == []
    assert validate("user", body, direction="request", strict=True) == [
        "user.acountEnabled: unknown property"
    ]
    # Open types that declare nothing are maps, and stay open even when strict.
    assert validate("plannerTask", PLANNER_TASK, direction="response", strict=True) == []
    # A dynamic value that names its type is checked against it.
    body = {"assignments": {"u1": {"@odata.type": "#microsoft.graph.plannerAssignment", "x": 1}}}
    assert validate("plannerTask", body, direction="request") == [
        "plannerTask.assignments.u1.x: unknown property"
    ]


def test_change_notification_resource_type_is_not_a_subtype():
    notification = {**CHANGE_NOTIFICATIONS["value"][0]}
    notification["resourceData"] = {"@odata.type": "#Microsoft.Graph.chatMessage", "id": "1"}
    body = {"value": [notification]}
    assert validate("changeNotificationCollection", body, direction="request") == []
    notification["resourceData"] = {"@odata.type": "chatMessage"}
    assert validate("changeNotificationCollection", body, direction="request") == [
        "changeNotificationCollection.value[0].resourceData.@odata.type: expected the changed "
        "resource's type (#Microsoft.Graph.<type>), got 'chatMessage'"
    ]
    notification["resourceData"] = {}
    notification["subscriptionId"] = "not-a-guid"
    assert validate("changeNotificationCollection", body, direction="request") == [
        "changeNotificationCollection.value[0].subscriptionId: expected Edm.Guid, got 'not-a-guid'"
    ]


def test_collection_response_problems():
    assert validate_collection_response("user", {"value": [{"accountEnabled": 1}], "x": 1}) == [
        "user[0].accountEnabled: expected Edm.Boolean, got int",
        "Collection(user).x: unknown property",
    ]
    assert validate_collection_response("user", {}) == ["Collection(user).value: missing"]
    assert validate_collection_response("user", [USER]) == [
        "Collection(user): expected an object with a value list, got list"
    ]


def test_action_problems():
    body = {**DRIVE_ITEM_INVITE, "notify": True}
    del body["recipients"]
    assert validate_action("driveItem", "invite", body) == [
        "driveItem.invite.notify: unknown parameter",
        "driveItem.invite.recipients: required parameter missing",
    ]
    body = {**DRIVE_ITEM_INVITE, "recipients": [{"emailAddress": "robin@contoso.org"}]}
    assert validate_action("driveItem", "invite", body) == [
        "driveItem.invite.recipients[0].emailAddress: unknown property"
    ]
    # Graph's sendMail example sends "false" as a string; Gigbridge sends a boolean.
    body = {**SEND_MAIL, "saveToSentItems": "false"}
    assert validate_action("user", "sendMail", body) == [
        "user.sendMail.saveToSentItems: expected Edm.Boolean, got str"
    ]
    assert validate_action("user", "sendMail", {}) == [
        "user.sendMail.Message: required parameter missing"
    ]
    values = [{"roles": [], "user@odata.bind": "https://graph.microsoft.com/v1.0/users('1')"}]
    assert validate_action("conversationMember", "add", {"values": values}) == [
        "conversationMember.add.values[0]: microsoft.graph.conversationMember is abstract: "
        "@odata.type must name a type derived from it"
    ]


def test_unknown_names_raise_clear_errors():
    with pytest.raises(UnknownTypeError, match=r"unknown Graph type 'calendarEvent'.*ROOT_TYPES"):
        validate("calendarEvent", {}, direction="response")
    with pytest.raises(UnknownTypeError):
        validate_collection_response("nope", {"value": []})
    with pytest.raises(UnknownActionError, match=r"'checkin' bound to 'driveItem'.*ACTIONS"):
        validate_action("driveItem", "checkin", {})
    with pytest.raises(ValueError, match="direction"):
        validate("user", {}, direction="inbound")


@pytest.mark.parametrize(
    ("type_name", "good", "bad"),
    [
        ("Edm.Guid", "7f105c7d-2dc5-4530-97cd-4e7ae6534c07", "7f105c7d2dc5453097cd4e7ae6534c07"),
        ("Edm.Date", "2026-01-31", "2026-02-31"),
        ("Edm.TimeOfDay", "08:00:00.0000000", "25:00:00"),
        ("Edm.Duration", "PT1H30M", "1 hour"),
        ("Edm.Duration", "P1DT0.5S", "PT"),
        ("Edm.Binary", "aGVsbG8=", "not base64!"),
        ("Edm.Int32", 2**31 - 1, 2**31),
        ("Edm.Double", 1, "1.5"),
        ("Edm.Double", "NaN", True),
        ("Edm.String", "x", 1),
    ],
)
def test_primitive_formats(type_name, good, bad):
    checker = conformance._Validator(load_subset(), "response", strict=False)
    checker.primitive(type_name, good, "x")
    assert checker.problems == []
    checker.primitive(type_name, bad, "x")
    assert len(checker.problems) == 1 and checker.problems[0].startswith(f"x: expected {type_name}")
