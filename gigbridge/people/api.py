from ninja import Router, Schema

from . import actions

router = Router(tags=["people"])


class MeOut(Schema):
    id: int
    username: str
    email: str
    name: str
    roles: list[str]


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
