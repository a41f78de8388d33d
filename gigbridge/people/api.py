from typing import Literal

from ninja import Router, Schema

from . import actions, notices

router = Router(tags=["people"])

Channel = Literal["outlook", "teams", "both"]


class MeOut(Schema):
    id: int
    username: str
    email: str
    name: str
    roles: list[str]


class NoticePreferenceOut(Schema):
    kind: str
    label: str
    channel: Channel
    chosen: bool  # false: the policy's default applies


class NoticesOut(Schema):
    default_channel: Channel
    teams_configured: bool  # false: every notice is mailed, whatever is chosen
    preferences: list[NoticePreferenceOut]


class NoticesIn(Schema):
    # {kind: channel}; "default" goes back to the policy's default. Kinds not named keep theirs.
    preferences: dict[str, Literal["outlook", "teams", "both", "default"]]


@router.get("", response=MeOut, summary="The signed-in user and their roles")
def me(request):
    user = request.user
    return MeOut(
        id=user.pk,
        username=user.username,
        email=user.email,
        name=user.get_full_name() or user.username,
        roles=sorted(actions.roles_of(user)),
    )


def _notices(user) -> NoticesOut:
    from gigbridge.notifications.actions import teams_configured

    return NoticesOut(
        default_channel=notices.default_channel(),
        teams_configured=teams_configured(),
        preferences=notices.preferences(user),
    )


@router.get(
    "/notices",
    response=NoticesOut,
    summary="Where each kind of notice reaches the signed-in user: Teams, Outlook or both",
)
def get_notices(request):
    return _notices(request.user)


@router.patch(
    "/notices",
    response=NoticesOut,
    summary="Choose Teams, Outlook or both per kind of notice (default: the policy's)",
)
def set_notices(request, payload: NoticesIn):
    notices.set_preferences(request.user, payload.preferences)
    return _notices(request.user)
