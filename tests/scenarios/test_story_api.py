"""The marketplace story, whole, through the REST API alone, from an empty product as
``make run`` leaves it (story.py says what the test may use; never a row of its own).

Everyone with an account works with a personal API token they made on their profile page,
signed in with the demo password; from then on only ``/api/v1`` is used. The freelancer has no
account and no API: they sign the NDA and MSA on the page the mailed link opens, fetched here
over plain HTTP as any browser would.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from .api_story import WORKSPACE, Api, contracted_on_the_marketplace, token_of
from .story import DAY, HOUR, end_of_grace, own_sandbox, start_world

pytestmark = [pytest.mark.django_db(transaction=True)]
_ = own_sandbox  # a fixture

FOLDER = f"Freelance/{WORKSPACE}"
BASE_URL = "http://testserver"


@pytest.fixture
def world(own_sandbox, settings, tmp_path):  # noqa: F811
    world = start_world(settings, own_sandbox, tmp_path / "data", BASE_URL)
    yield world
    world.close()


def test_marketplace_story_through_the_api(world):
    api = {
        name: Api(token_of(name, world.password))
        for name in ("ada", "rita", "max", "paula", "lena")
    }
    rita = api["rita"]
    hired = contracted_on_the_marketplace(world, api, base_url=BASE_URL)
    engagement_id, email, team, guest = (hired.engagement_id, hired.email, hired.team, hired.guest)
    start, end = hired.start, hired.end

    # The milestone is submitted two days after it was funded.
    world.advance(3 * DAY)
    world.work()
    market = rita.get(f"/engagements/{engagement_id}/marketplace")
    assert [m["state"] for m in market["milestones"]] == ["SUBMITTED"], market["milestones"]
    assert rita.get(f"/engagements/{engagement_id}")["state"] == "active"

    milestone = market["milestones"][0]
    approved = rita.post(
        f"/engagements/{engagement_id}/milestones/{milestone['id']}/approve",
        {"amount": "3000.00", "comment": "Lovely work, thank you."},
        status=202,
    )
    assert set(approved) == set(market)  # the marketplace view again
    world.work()
    world.advance(HOUR)
    world.work()
    market = rita.get(f"/engagements/{engagement_id}/marketplace")
    assert len(market["payments"]) == 1, market["payments"]
    assert Decimal(market["payments"][0]["amount"]) == Decimal("3000")
    assert Decimal(market["spent"]) == Decimal("2760.00")
    centers = {c["code"]: c for c in rita.get("/cost-centers")}
    # This fiscal year's spend (from January) counts work by its start date.
    paid = Decimal("2760.00") if start.year == world.today().year else Decimal("0")
    assert Decimal(centers["CC-MKT"]["actual"]) == paid

    ended_on = world.today()
    assert ended_on < end
    rita.post(
        f"/engagements/{engagement_id}/end",
        {"reason": end_reason(rita), "feedback": "Thank you; the campaign was cut short."},
        status=202,
    )
    world.work()
    world.advance(10 * 60)  # the worker's next pass, minutes later
    world.work()
    engagement = rita.get(f"/engagements/{engagement_id}")
    assert engagement["state"] == "offboarding", engagement
    assert engagement["contract_end"] == ended_on.isoformat()
    share = world.folder_share(team["id"], FOLDER, email)
    assert share["expirationDateTime"] == end_of_grace(ended_on), share
    review = [r for r in api["ada"].get("/access/review") if r["guest"] == email]
    folder_row = next(r for r in review if r["kind"] == "folder_share")
    assert folder_row["until"] == (ended_on + dt.timedelta(days=3)).isoformat(), folder_row

    world.advance(4 * DAY)
    world.work()
    world.work()
    assert world.user(email) is None
    assert world.team_membership(team["id"], guest["id"]) is None
    assert world.folder_share(team["id"], FOLDER, email) is None
    assert not [t for t in world.tasks(team["id"]) if guest["id"] in (t.get("assignments") or {})]
    assert not [r for r in api["ada"].get("/access/review") if r["guest"] == email]
    assert rita.get(f"/engagements/{engagement_id}")["state"] == "closed"


def end_reason(api: Api) -> str:
    """A reason the API accepts for ending a contract, as its OpenAPI description lists them
    (the API names the field, not its values); free text when it lists none."""
    schema = api.client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/engagements/{engagement_id}/end"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    while "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    reason = body["properties"]["reason"]
    for option in [reason, *reason.get("anyOf", []), *reason.get("allOf", [])]:
        if "$ref" in option:
            option = schema["components"]["schemas"][option["$ref"].rsplit("/", 1)[-1]]
        if option.get("enum"):
            return option["enum"][0]
    return "The work is done early."
