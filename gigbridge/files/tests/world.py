"""A workspace with a drive and a Planner plan, and a contracted engagement of a freelancer
whose guest account (and task grants) the reconciler recorded: what the files tests start from."""

from __future__ import annotations

import datetime as dt

from conftest import request_payload
from gigbridge import clock
from gigbridge.access.models import Grant
from gigbridge.engagements import actions
from gigbridge.engagements.models import Engagement
from gigbridge.program.models import CostCenter, Workspace

from .drivefake import person

DRIVE = "b!drive-spring"
FOLDER = "Freelance/Spring"
PLAN = "plan-spring"
FREELANCER = "freya@freelancers.example"
GUEST_ID = "243b1de4-ad9f-421c-a933-d55305fb165d"
EMPLOYEE_ID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
GUEST = person(GUEST_ID, "Freya Freelancer", FREELANCER)
EMPLOYEE = person(EMPLOYEE_ID, "Rita Requester", "rita@contoso.example")


def workspace(fake) -> Workspace:
    fake.drive(DRIVE)
    folder = fake.folder(DRIVE, FOLDER)
    return Workspace.objects.create(
        name="Spring campaign",
        team_id="team-spring",
        drive_id=DRIVE,
        folder_id=folder.id,
        folder_path=FOLDER,
        plan_id=PLAN,
        bucket_id="bucket-1",
        ready=True,
    )


def engagement(people, space: Workspace, applied_at: dt.datetime | None = None) -> Engagement:
    data = request_payload(sourcing="direct", freelancer_email=FREELANCER, freelancer_country="PT")
    data["cost_center"] = CostCenter.objects.get(code=data["cost_center"])
    data["start_date"] = dt.date.fromisoformat(data["start_date"])
    data["end_date"] = dt.date.fromisoformat(data["end_date"])
    data["workspace"] = space
    request = actions.create_request(people["rita"], data)
    actions.submit_request(people["rita"], request)
    actions.decide(people["max"], request.steps.get(), "approve")
    found = Engagement.objects.get(request=request)
    found = actions.transition_engagement(people["ada"], found, "contracted")
    applied_at = applied_at or clock.now() - dt.timedelta(days=1)
    Grant.objects.create(
        engagement=found,
        kind=Grant.Kind.GUEST,
        target=FREELANCER,
        external_id=GUEST_ID,
        principal=FREELANCER,
        reason="tests",
        applied_at=applied_at,
    )
    for index, _ in enumerate(request.deliverables):
        Grant.objects.create(
            engagement=found,
            kind=Grant.Kind.PLANNER_TASK,
            target=f"{PLAN}:{index}",
            external_id=f"task-{index}",
            principal=FREELANCER,
            reason="tests",
            applied_at=applied_at,
        )
    return found
