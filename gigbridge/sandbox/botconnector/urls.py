from django.urls import path, re_path

from . import connector, keys, tools, viewer

CONVERSATION = r"(?P<conversation>[^/]+)"

urlpatterns = [
    path(
        "botframework/v1/.well-known/openidconfiguration",
        keys.openid_configuration,
        name="botframework-openid",
    ),
    path("botframework/v1/.well-known/keys", keys.keys, name="botframework-keys"),
    path("botframework/_sandbox/endpoint", tools.endpoint, name="botframework-endpoint"),
    re_path(
        r"^botframework/teams/v3/conversations/?$",
        connector.conversations,
        name="bot-conversations",
    ),
    re_path(
        rf"^botframework/teams/v3/conversations/{CONVERSATION}/(?:pagedmembers|pagedMembers)/?$",
        connector.paged_members,
        name="bot-paged-members",
    ),
    re_path(
        rf"^botframework/teams/v3/conversations/{CONVERSATION}/activities/?$",
        connector.send,
        name="bot-send",
    ),
    re_path(
        rf"^botframework/teams/v3/conversations/{CONVERSATION}/activities/"
        r"(?P<activity_id>[^/]+)/members/?$",
        connector.members,
        name="bot-activity-members",
    ),
    re_path(
        rf"^botframework/teams/v3/conversations/{CONVERSATION}/activities/(?P<activity_id>[^/]+)$",
        connector.activity,
        name="bot-activity",
    ),
    re_path(
        rf"^botframework/teams/v3/conversations/{CONVERSATION}/members/?$",
        connector.members,
        name="bot-members",
    ),
    re_path(
        rf"^botframework/teams/v3/conversations/{CONVERSATION}/members/(?P<member_id>[^/]+)$",
        connector.member,
        name="bot-member",
    ),
    re_path(
        r"^botframework/teams/v3/teams/(?P<team_id>[^/]+)/conversations/?$",
        connector.team_channels,
        name="bot-team-channels",
    ),
    re_path(
        r"^botframework/teams/v3/teams/(?P<team_id>[^/]+)/?$",
        connector.team_details,
        name="bot-team",
    ),
    path("teams/", viewer.teams, name="teams-viewer"),
    path("teams/teams.css", viewer.stylesheet, name="teams-css"),
    path("teams/post", viewer.post, name="teams-post"),
    path("teams/invoke", viewer.invoke, name="teams-invoke"),
]
