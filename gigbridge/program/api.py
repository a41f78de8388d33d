import datetime as dt

from ninja import Router, Schema

from . import actions

router = Router(tags=["program"])


class PolicyOut(Schema):
    version: int
    sha256: str
    activated_at: dt.datetime
    activated_by: str
    filename: str
    policy: dict
    source_text: str


@router.get("/policy", response=PolicyOut, summary="The program policy in force")
def current_policy(request):
    version, policy = actions.current()
    return PolicyOut(
        version=version.number,
        sha256=version.sha256,
        activated_at=version.activated_at,
        activated_by=version.activated_by,
        filename=version.filename,
        policy=policy.model_dump(mode="json"),
        source_text=version.source_text,
    )
