"""``/planner``: plans of unified groups, their buckets and tasks, and task details.

Versioning as Planner documents it: every plan, bucket, task and task details object carries
``@odata.etag`` (also sent as the ``ETag`` header); every change makes a new one. ``PATCH`` and
``DELETE`` need ``If-Match`` with the current ETag (or ``*``): missing or stale, the answer is
412 ``PreconditionFailed`` (Planner's overview: "All Planner API POST, PATCH, and DELETE
requests require the If-Match header … The 412 status code can also be returned if the etag
value specified in the request no longer matches"). The sandbox never merges a change made
against an older version, which real Planner sometimes does: a client that copes with the
sandbox copes with both.

``PATCH`` answers 204, or 200 with the object when the request has
``Prefer: return=representation``. ``assignments`` and ``appliedCategories`` are merged key by
key: an assignment set to null is removed; a new one needs ``@odata.type``
``#microsoft.graph.plannerAssignment`` and an ``orderHint`` in Planner's input format (``" !"``
or ``"<before> <after>!"``); the answer carries a computed hint instead, as Planner does (sending
that back as input is 400, as Planner documents).
"""

from __future__ import annotations

import re
import time
import uuid

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..graph.dispatch import GraphRequest, GraphResponse, created, iso, no_content, ok, route
from ..graph.errors import GraphError, bad_request
from ..graph.groups import find_group
from ..graph.paging import paginate
from ..graph.validation import check
from ..models import GraphGroup
from .common import identity_of, planner_etag, planner_id
from .models import PlannerBucket, PlannerPlan, PlannerTask

READ = (
    "Tasks.Read.All", "Tasks.ReadWrite.All", "Tasks.Read", "Tasks.ReadWrite",
    "Group.Read.All", "Group.ReadWrite.All",
)  # fmt: skip
WRITE = ("Tasks.ReadWrite.All", "Tasks.ReadWrite", "Group.ReadWrite.All")

ASSIGNMENT_TYPE = "#microsoft.graph.plannerAssignment"
CHECKLIST_TYPE = "#microsoft.graph.plannerChecklistItem"
REFERENCE_TYPE = "#microsoft.graph.plannerExternalReference"
_HINT_INPUT = re.compile(r"[^ ]* [^ ]*!")
# Read-only on a task (or not writable through the sandbox).
TASK_READ_ONLY = {
    "id", "createdBy", "createdDateTime", "completedBy", "hasDescription", "referenceCount",
    "checklistItemCount", "activeChecklistItemCount", "previewType",
}  # fmt: skip
CATEGORIES = {f"category{n}" for n in range(1, 26)}


def not_found() -> GraphError:
    return GraphError(404, "NotFound", "The requested item is not found.")


def order_hint() -> str:
    """A computed order hint (what Planner stores for an input hint): opaque, falling over time
    so that later ``" !"`` items sort first, as Planner places them."""
    return str(8_600_000_000_000_000_000 - time.time_ns() // 100)


def input_hint(value, name: str = "orderHint") -> str:
    if not isinstance(value, str) or not _HINT_INPUT.fullmatch(value):
        raise bad_request(
            f"The {name} value '{value}' is not in the correct format: send \" !\" or "
            "\"<previous> <next>!\" (see 'Using order hints in Planner')."
        )
    return order_hint()


def _date(body: dict, name: str):
    value = body.get(name)
    if value is None:
        return None
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise bad_request(f"The value of '{name}' is not a valid DateTimeOffset.")
    return parsed


def etag_headers(etag: str) -> dict[str, str]:
    return {"ETag": etag}


def check_if_match(request: GraphRequest, current: str) -> None:
    """412 unless ``If-Match`` names the current version (or is ``*``)."""
    given = (request.headers.get("if-match") or "").strip()
    if not given:
        raise GraphError(
            412,
            "PreconditionFailed",
            "The If-Match header must be specified for this kind of request.",
        )
    tags = [tag.strip() for tag in given.split(",") if tag.strip()]
    weakless = current.removeprefix("W/")
    if "*" in tags or any(tag == current or tag.removeprefix("W/") == weakless for tag in tags):
        return
    raise GraphError(
        412,
        "PreconditionFailed",
        "The If-Match header contains an ETag that does not match the current version of the "
        "resource. Read the resource again to get its current ETag.",
    )


def wants_representation(request: GraphRequest) -> bool:
    return "return=representation" in request.headers.get("prefer", "").replace(" ", "")


def _plans(request: GraphRequest):
    return PlannerPlan.objects.filter(tenant=request.tenant)


def find_plan(request: GraphRequest, key: str) -> PlannerPlan:
    plan = _plans(request).filter(id=key).first()
    if plan is None or not GraphGroup.objects.filter(id=plan.group_id).exists():
        raise not_found()
    return plan


def find_task(request: GraphRequest, key: str) -> PlannerTask:
    task = (
        PlannerTask.objects.select_related("plan")
        .filter(plan__tenant=request.tenant, id=key)
        .first()
    )
    if task is None or not GraphGroup.objects.filter(id=task.plan.group_id).exists():
        raise not_found()
    return task


# -- JSON -------------------------------------------------------------------------------------


def plan_json(request: GraphRequest, plan: PlannerPlan) -> dict:
    group = str(plan.group_id)
    return {
        "@odata.etag": plan.etag,
        "id": plan.id,
        "title": plan.title,
        "owner": group,
        "createdDateTime": iso(plan.created),
        "createdBy": plan.created_by,
        "container": {
            "@odata.type": "#microsoft.graph.plannerPlanContainer",
            "containerId": group,
            "type": "group",
            "url": f"{request.base}/groups/{group}",
        },
    }


def bucket_json(bucket: PlannerBucket) -> dict:
    return {
        "@odata.etag": bucket.etag,
        "id": bucket.id,
        "name": bucket.name,
        "planId": bucket.plan_id,
        "orderHint": bucket.order_hint,
    }


def task_json(task: PlannerTask) -> dict:
    assignments = {
        user: {"@odata.type": ASSIGNMENT_TYPE, **value} for user, value in task.assignments.items()
    }
    checklist = task.checklist or {}
    return {
        "@odata.etag": task.etag,
        "id": task.id,
        "planId": task.plan_id,
        "bucketId": task.bucket_id,
        "title": task.title,
        "orderHint": task.order_hint,
        "assigneePriority": task.assignee_priority,
        "percentComplete": task.percent_complete,
        "priority": task.priority,
        "startDateTime": iso(task.start),
        "dueDateTime": iso(task.due),
        "createdDateTime": iso(task.created),
        "completedDateTime": iso(task.completed),
        "completedBy": task.completed_by,
        "hasDescription": bool(task.description),
        "previewType": task.preview_type,
        "referenceCount": len(task.references or {}),
        "checklistItemCount": len(checklist),
        "activeChecklistItemCount": sum(1 for c in checklist.values() if not c.get("isChecked")),
        "conversationThreadId": task.conversation_thread_id or None,
        "createdBy": task.created_by,
        "appliedCategories": dict(task.applied_categories),
        "assignments": assignments,
    }


def details_json(request: GraphRequest, task: PlannerTask) -> dict:
    checklist = {
        key: {"@odata.type": CHECKLIST_TYPE, **value} for key, value in task.checklist.items()
    }
    references = {
        key: {"@odata.type": REFERENCE_TYPE, **value} for key, value in task.references.items()
    }
    return {
        "@odata.context": f"{request.base}/$metadata#planner/tasks('{task.id}')/details/$entity",
        "@odata.etag": task.details_etag,
        "id": task.id,
        "description": task.description or None,
        "previewType": task.preview_type,
        "references": references,
        "checklist": checklist,
    }


def _entity(request: GraphRequest, fragment: str, body: dict) -> dict:
    return {"@odata.context": f"{request.base}/$metadata#{fragment}", **body}


# -- plans ------------------------------------------------------------------------------------


def _container_group(request: GraphRequest, body: dict) -> GraphGroup:
    container = body.get("container") or {}
    key = body.get("owner") or container.get("containerId")
    if not key and container.get("url"):
        found = re.search(r"/groups(?:\('([^']+)'\)|/([^/?#]+))", container["url"])
        key = (found.group(1) or found.group(2)) if found else None
    if container.get("type") not in (None, "group"):
        raise bad_request("The sandbox's Planner supports plans contained by groups only.")
    if not key:
        raise bad_request(
            "A plan needs a container: 'container' with the group's url (or "
            "'owner' with the group's id)."
        )
    try:
        group = GraphGroup.objects.filter(tenant=request.tenant, id=uuid.UUID(str(key))).first()
    except ValueError:
        group = None
    if group is None:
        raise not_found()
    if "Unified" not in (group.group_types or []):
        raise bad_request("Plans can only be contained by Microsoft 365 (unified) groups.")
    return group


@route("POST", "/planner/plans", permissions=WRITE)
def create_plan(request: GraphRequest) -> GraphResponse:
    body = request.json()
    check("plannerPlan", body)
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise bad_request("The plan needs a 'title'.")
    group = _container_group(request, body)
    plan = PlannerPlan.objects.create(
        id=planner_id(),
        tenant=request.tenant,
        group_id=group.id,
        title=title,
        created_by=identity_of(request),
        etag=planner_etag("Plan"),
    )
    reply = _entity(request, "planner/plans/$entity", plan_json(request, plan))
    response = created(reply, f"{request.base}/planner/plans/{plan.id}")
    response.headers.update(etag_headers(plan.etag))
    return response


@route("GET", "/planner/plans/{key}", permissions=READ)
def get_plan(request: GraphRequest, key: str) -> GraphResponse:
    plan = find_plan(request, key)
    response = ok(_entity(request, "planner/plans/$entity", plan_json(request, plan)))
    response.headers.update(etag_headers(plan.etag))
    return response


@route("GET", "/groups/{key}/planner/plans", permissions=READ)
def group_plans(request: GraphRequest, key: str) -> GraphResponse:
    group = find_group(request, key)
    plans = _plans(request).filter(group_id=group.id)
    context = f"{request.base}/$metadata#groups('{group.id}')/planner/plans"
    return ok(paginate(request, plans, lambda p: plan_json(request, p), context))


# -- buckets ----------------------------------------------------------------------------------


@route("POST", "/planner/buckets", permissions=WRITE)
def create_bucket(request: GraphRequest) -> GraphResponse:
    body = request.json()
    check("plannerBucket", body)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("The bucket needs a 'name'.")
    if not body.get("planId"):
        raise bad_request("The bucket needs a 'planId'.")
    plan = find_plan(request, str(body["planId"]))
    hint = input_hint(body["orderHint"]) if body.get("orderHint") is not None else order_hint()
    bucket = PlannerBucket.objects.create(
        id=planner_id(), plan=plan, name=name, order_hint=hint, etag=planner_etag("Bucket")
    )
    reply = _entity(request, "planner/buckets/$entity", bucket_json(bucket))
    response = created(reply, f"{request.base}/planner/buckets/{bucket.id}")
    response.headers.update(etag_headers(bucket.etag))
    return response


@route("GET", "/planner/plans/{key}/buckets", permissions=READ)
def plan_buckets(request: GraphRequest, key: str) -> GraphResponse:
    plan = find_plan(request, key)
    context = f"{request.base}/$metadata#planner/plans('{plan.id}')/buckets"
    return ok(paginate(request, plan.buckets.all(), bucket_json, context))


# -- tasks ------------------------------------------------------------------------------------


def _bucket_of(plan: PlannerPlan, key) -> PlannerBucket | None:
    if key is None:
        return None
    bucket = PlannerBucket.objects.filter(plan=plan, id=str(key)).first()
    if bucket is None:
        raise bad_request(f"The bucket '{key}' does not belong to the plan '{plan.id}'.")
    return bucket


def _merge_assignments(request: GraphRequest, current: dict, changes) -> dict:
    if not isinstance(changes, dict):
        raise bad_request("'assignments' must be an object keyed by user id.")
    merged = dict(current)
    for user, value in changes.items():
        if user.startswith("@"):
            continue
        try:
            uuid.UUID(user)
        except ValueError:
            raise bad_request(f"'{user}' is not a valid user id for an assignment.") from None
        if value is None:
            merged.pop(user, None)
            continue
        if not isinstance(value, dict) or value.get("@odata.type") != ASSIGNMENT_TYPE:
            raise bad_request(
                f"The assignment for '{user}' must be an object with '@odata.type': "
                f"'{ASSIGNMENT_TYPE}'."
            )
        previous = merged.get(user)
        hint = input_hint(value.get("orderHint", " !"), "assignment orderHint")
        merged[user] = {
            "assignedDateTime": previous["assignedDateTime"] if previous else iso(timezone.now()),
            "assignedBy": previous["assignedBy"] if previous else identity_of(request),
            "orderHint": hint,
        }
    return merged


def _merge_categories(current: dict, changes) -> dict:
    if not isinstance(changes, dict):
        raise bad_request("'appliedCategories' must be an object.")
    merged = dict(current)
    for name, value in changes.items():
        if name.startswith("@"):
            continue
        if name not in CATEGORIES or not isinstance(value, bool):
            raise bad_request(
                f"Invalid applied category '{name}': use category1..category25 with true or false."
            )
        if value:
            merged[name] = True
        else:
            merged.pop(name, None)
    return merged


def _apply_task(request: GraphRequest, task: PlannerTask, body: dict) -> None:
    """Apply the writable properties in ``body`` to ``task`` (not saved)."""
    read_only = sorted(TASK_READ_ONLY & body.keys())
    if read_only:
        raise bad_request(f"The property '{read_only[0]}' is read-only.")
    if "title" in body:
        if not isinstance(body["title"], str) or not body["title"].strip():
            raise bad_request("The task's 'title' cannot be empty.")
        task.title = body["title"]
    if "bucketId" in body:
        task.bucket = _bucket_of(task.plan, body["bucketId"])
    if "percentComplete" in body:
        percent = body["percentComplete"]
        if not isinstance(percent, int) or not 0 <= percent <= 100:
            raise bad_request("'percentComplete' must be a whole number from 0 to 100.")
        if percent == 100 and task.percent_complete != 100:
            task.completed, task.completed_by = timezone.now(), identity_of(request)
        elif percent != 100:
            task.completed, task.completed_by = None, None
        task.percent_complete = percent
    if "priority" in body:
        if not isinstance(body["priority"], int) or not 0 <= body["priority"] <= 10:
            raise bad_request("'priority' must be a whole number from 0 to 10.")
        task.priority = body["priority"]
    if "startDateTime" in body:
        task.start = _date(body, "startDateTime")
    if "dueDateTime" in body:
        task.due = _date(body, "dueDateTime")
    if task.start and task.due and task.start > task.due:
        raise bad_request("The task's start date cannot be later than its due date.")
    if body.get("orderHint") is not None:
        task.order_hint = input_hint(body["orderHint"])
    if body.get("assigneePriority") is not None:
        task.assignee_priority = input_hint(body["assigneePriority"], "assigneePriority")
    if "conversationThreadId" in body:
        task.conversation_thread_id = body["conversationThreadId"] or ""
    if body.get("assignments") is not None:
        task.assignments = _merge_assignments(request, task.assignments, body["assignments"])
    if body.get("appliedCategories") is not None:
        task.applied_categories = _merge_categories(
            task.applied_categories, body["appliedCategories"]
        )


@route("POST", "/planner/tasks", permissions=WRITE)
def create_task(request: GraphRequest) -> GraphResponse:
    body = request.json()
    check("plannerTask", body)
    if not isinstance(body.get("title"), str) or not body["title"].strip():
        raise bad_request("The task needs a 'title'.")
    if not body.get("planId"):
        raise bad_request("The task needs a 'planId'.")
    plan = find_plan(request, str(body["planId"]))
    task = PlannerTask(
        id=planner_id(),
        plan=plan,
        title=body["title"],
        order_hint=order_hint(),
        assignee_priority=order_hint(),
        created_by=identity_of(request),
        etag=planner_etag("Task"),
        details_etag=planner_etag("TaskDetails"),
    )
    _apply_task(request, task, {k: v for k, v in body.items() if k != "planId"})
    task.save()
    reply = _entity(request, "planner/tasks/$entity", task_json(task))
    response = created(reply, f"{request.base}/planner/tasks/{task.id}")
    response.headers.update(etag_headers(task.etag))
    return response


@route("GET", "/planner/tasks/{key}", permissions=READ)
def get_task(request: GraphRequest, key: str) -> GraphResponse:
    task = find_task(request, key)
    response = ok(_entity(request, "planner/tasks/$entity", task_json(task)))
    response.headers.update(etag_headers(task.etag))
    return response


@route("GET", "/planner/plans/{key}/tasks", permissions=READ)
def plan_tasks(request: GraphRequest, key: str) -> GraphResponse:
    plan = find_plan(request, key)
    context = f"{request.base}/$metadata#planner/plans('{plan.id}')/tasks"
    return ok(paginate(request, plan.tasks.all(), task_json, context))


@route("PATCH", "/planner/tasks/{key}", permissions=WRITE)
def update_task(request: GraphRequest, key: str) -> GraphResponse:
    task = find_task(request, key)
    body = request.json()
    check("plannerTask", body)
    check_if_match(request, task.etag)
    if "planId" in body and body["planId"] != task.plan_id:
        raise bad_request("The sandbox does not move tasks between plans: 'planId' is fixed.")
    _apply_task(request, task, {k: v for k, v in body.items() if k != "planId"})
    task.etag = planner_etag("Task")
    task.save()
    if wants_representation(request):
        response = ok(_entity(request, "planner/tasks/$entity", task_json(task)))
    else:
        response = no_content()
    response.headers.update(etag_headers(task.etag))
    return response


@route("DELETE", "/planner/tasks/{key}", permissions=WRITE)
def delete_task(request: GraphRequest, key: str) -> GraphResponse:
    task = find_task(request, key)
    check_if_match(request, task.etag)
    task.delete()
    return no_content()


# -- task details -----------------------------------------------------------------------------


def _merge_open(current: dict, changes, item_type: str, name: str) -> dict:
    if not isinstance(changes, dict):
        raise bad_request(f"'{name}' must be an object.")
    merged = dict(current)
    for key, value in changes.items():
        if key.startswith("@"):
            continue
        if value is None:
            merged.pop(key, None)
            continue
        if not isinstance(value, dict) or value.get("@odata.type") != item_type:
            raise bad_request(f"Each entry of '{name}' needs '@odata.type': '{item_type}'.")
        entry = {**merged.get(key, {}), **{k: v for k, v in value.items() if k != "@odata.type"}}
        if "orderHint" in value:
            entry["orderHint"] = input_hint(value["orderHint"])
        entry["lastModifiedDateTime"] = iso(timezone.now())
        merged[key] = entry
    return merged


@route("GET", "/planner/tasks/{key}/details", permissions=READ)
def get_details(request: GraphRequest, key: str) -> GraphResponse:
    task = find_task(request, key)
    response = ok(details_json(request, task))
    response.headers.update(etag_headers(task.details_etag))
    return response


@route("PATCH", "/planner/tasks/{key}/details", permissions=WRITE)
def update_details(request: GraphRequest, key: str) -> GraphResponse:
    task = find_task(request, key)
    body = request.json()
    check("plannerTaskDetails", body)
    check_if_match(request, task.details_etag)
    if "id" in body:
        raise bad_request("The property 'id' is read-only.")
    summary_before = task_json(task)
    if "description" in body:
        task.description = body["description"] or ""
    if body.get("previewType") is not None:
        task.preview_type = body["previewType"]
    if body.get("checklist") is not None:
        task.checklist = _merge_open(task.checklist, body["checklist"], CHECKLIST_TYPE, "checklist")
    if body.get("references") is not None:
        task.references = _merge_open(
            task.references, body["references"], REFERENCE_TYPE, "references"
        )
    task.details_etag = planner_etag("TaskDetails")
    if task_json(task) != summary_before:  # hasDescription, counts: the task changed too
        task.etag = planner_etag("Task")
    task.save()
    response = ok(details_json(request, task)) if wants_representation(request) else no_content()
    response.headers.update(etag_headers(task.details_etag))
    return response
