"""Authorization matrix: every API operation and every web route × every role, with the answer.

The operations are read from the API's own OpenAPI description and the routes from the URL
conf, so a new operation or page without a row here fails this test: decide who may use it.

Each role is one demo person (gigbridge/people/demo.py) and the example policy
(examples/program.yaml); "no_role" is a person imported the way HR's export brings people in,
without roles. The objects are made through the actions, and every call runs in a savepoint
that is rolled back, so each answer depends only on who asks, never on who asked before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from conftest import request_payload

pytestmark = pytest.mark.django_db

# role -> the demo person holding it (None: not signed in)
ROLES = {
    "requester": "rita",
    "manager": "max",  # rita's line manager (also a requester)
    "procurement": "paula",
    "legal": "lena",
    "hr": "hank",
    "finance": "fiona",
    "cost_center_owner": "dan",  # owns CC-ENG and others (also a requester)
    "program_admin": "ada",
    "auditor": "audrey",
    "no_role": "nora",
    "anonymous": None,
}
SIGNED_IN = [r for r, u in ROLES.items() if u]
REQUESTERS = ["requester", "manager", "cost_center_owner"]  # hold the requester role
OVERSEERS = ["program_admin", "auditor"]
SAME = "same for everyone"  # public endpoints: the answer must not depend on the caller
# Who sees the request of procurement's pending step but may not decide it: told why (403).
SEES_STEP_ONLY = dict.fromkeys(["requester", "manager", *OVERSEERS], 403)


def everyone(status: int, anonymous: int) -> dict:
    return {**{r: status for r in SIGNED_IN}, "anonymous": anonymous}


def only(roles, status: int, others: int, anonymous: int, **exceptions) -> dict:
    table = {r: status if r in roles else others for r in SIGNED_IN}
    return {**table, **exceptions, "anonymous": anonymous}


def seen(roles, status: int, anonymous: int, **exceptions) -> dict:
    """``status`` for who may see the object, 404 for everyone else (as if it did not exist)."""
    return only(roles, status, 404, anonymous, **exceptions)


# Who sees what (the objects are built in ``world``):
DRAFT_SEEN = ["requester", *OVERSEERS]
# 6,000 EUR: the manager approved, procurement is asked now.
IN_APPROVAL_SEEN = ["requester", "manager", "procurement", *OVERSEERS]
# 30,000 EUR confidential contingent on CC-ENG, withdrawn while only the manager was asked.
WITHDRAWN_SEEN = ["requester", "manager", *OVERSEERS]
ENGAGEMENT_SEEN = ["requester", "manager", *OVERSEERS]  # the manager approved it
AGREEMENT_KEEPERS = ["legal", "hr", "program_admin"]  # record and revoke agreements
AGREEMENT_READERS = [*AGREEMENT_KEEPERS, "auditor"]
SIGNATURE_SENDERS = [*AGREEMENT_KEEPERS, *REQUESTERS]  # hiring managers too
ANALYSTS = ["program_admin", "finance", "procurement", "auditor"]  # VIEW_ANALYTICS


@dataclass
class Case:
    method: str
    route: str  # exactly as in the OpenAPI paths / the URL conf
    expect: dict
    label: str = ""
    params: dict = field(default_factory=dict)
    body: dict | None = None
    query: str = ""
    files: dict | None = None  # name -> (file name, bytes): sent as multipart/form-data


def api_cases(w: dict) -> list[Case]:
    req, eng, prop = "{request_id}", "{engagement_id}", "{proposal_id}"
    draft, eng_id = {"request_id": w["draft"]}, {"engagement_id": w["engagement"]}
    e = "/api/v1/engagements/" + eng
    sourcers = ["requester", "program_admin"]  # the hiring manager and program admins
    return [
        Case("GET", "/api/v1/me", everyone(200, 401)),
        Case("GET", "/api/v1/me/notices", everyone(200, 401)),
        Case(
            "PATCH",
            "/api/v1/me/notices",
            everyone(200, 401),
            body={"preferences": {"spend_alert": "both"}},
        ),
        Case("GET", "/api/v1/requests", everyone(200, 401)),
        Case("POST", "/api/v1/requests", only(REQUESTERS, 201, 403, 401), body=request_payload()),
        Case("GET", f"/api/v1/requests/{req}", seen(DRAFT_SEEN, 200, 401), "draft", draft),
        Case(
            "GET",
            f"/api/v1/requests/{req}",
            seen(IN_APPROVAL_SEEN, 200, 401),
            "in approval",
            {"request_id": w["in_approval"]},
        ),
        Case(
            "GET",
            f"/api/v1/requests/{req}",
            seen(WITHDRAWN_SEEN, 200, 401),
            "withdrawn",
            {"request_id": w["withdrawn"]},
        ),
        Case(
            "PATCH",
            f"/api/v1/requests/{req}",
            seen(["requester"], 200, 401, **dict.fromkeys(OVERSEERS, 403)),
            "draft",
            draft,
            {"title": "A sharper title"},
        ),
        Case(
            "POST",
            f"/api/v1/requests/{req}/submit",
            seen(["requester"], 200, 401, **dict.fromkeys(OVERSEERS, 403)),
            "draft",
            draft,
        ),
        Case(
            "POST",
            f"/api/v1/requests/{req}/withdraw",
            seen(["requester"], 200, 401, **dict.fromkeys(OVERSEERS, 403)),
            "draft",
            draft,
        ),
        Case("GET", f"/api/v1/requests/{req}/timeline", seen(DRAFT_SEEN, 200, 401), "", draft),
        Case("GET", "/api/v1/approvals", everyone(200, 401)),
        Case(
            "POST",
            "/api/v1/approvals/{step_id}/decision",
            seen(["procurement"], 200, 401, **SEES_STEP_ONLY),
            "procurement's step",
            {"step_id": w["step"]},
            {"decision": "approve", "comment": "fine"},
        ),
        Case("GET", "/api/v1/engagements", everyone(200, 401)),
        Case("GET", e, seen(ENGAGEMENT_SEEN, 200, 401), "", eng_id),
        Case("GET", e + "/timeline", seen(ENGAGEMENT_SEEN, 200, 401), "", eng_id),
        Case(
            "POST",
            e + "/transitions",
            seen(ENGAGEMENT_SEEN, 403, 401, program_admin=200),
            "",
            eng_id,
            {"state": "cancelled", "reason": "matrix"},
        ),
        Case("GET", e + "/marketplace", seen(ENGAGEMENT_SEEN, 200, 401), "", eng_id),
        Case(
            "POST",
            f"{e}/proposals/{prop}/shortlist",
            seen(ENGAGEMENT_SEEN, 403, 401, **dict.fromkeys(sourcers, 200)),
            "",
            {**eng_id, "proposal_id": w["proposal"]},
        ),
        Case(
            "POST",
            f"{e}/proposals/{prop}/pick",
            seen(ENGAGEMENT_SEEN, 403, 401, **dict.fromkeys(sourcers, 200)),
            "",
            {**eng_id, "proposal_id": w["proposal"]},
            {"amount": "3000"},
        ),
        Case(
            "POST",
            e + "/invite",
            seen(ENGAGEMENT_SEEN, 403, 401, **dict.fromkeys(sourcers, 200)),
            "",
            eng_id,
            {"profile_key": "~01freya"},
        ),
        Case(
            "POST",
            e + "/post-job",
            seen(ENGAGEMENT_SEEN, 403, 401, **dict.fromkeys(sourcers, 200)),
            "",
            eng_id,
        ),
        Case(
            "POST",
            e + "/end",
            seen(ENGAGEMENT_SEEN, 403, 401, **dict.fromkeys(sourcers, 202)),
            "contracted direct hire",
            {"engagement_id": w["contracted_direct"]},
            {"reason": "work_completed", "feedback": "Thank you"},
        ),
        Case(
            "POST",
            e + "/start",
            seen(ENGAGEMENT_SEEN, 403, 401, **dict.fromkeys(sourcers, 200)),
            "direct hire in sourcing",
            {"engagement_id": w["sourcing_direct"]},
            {},
        ),
        # Deciding a contract's work: the hiring manager and program admins.
        Case(
            "POST",
            f"{e}/milestones/{{milestone_id}}/approve",
            seen(ENGAGEMENT_SEEN, 403, 401, **dict.fromkeys(sourcers, 202)),
            "submitted",
            {"engagement_id": w["contracted"], "milestone_id": w["submitted_milestone"]},
            {"amount": "100.00", "comment": "matrix"},
        ),
        Case(
            "POST",
            f"{e}/milestones/{{milestone_id}}/request-changes",
            seen(ENGAGEMENT_SEEN, 403, 401, **dict.fromkeys(sourcers, 202)),
            "submitted",
            {"engagement_id": w["contracted"], "milestone_id": w["submitted_milestone"]},
            {"comment": "matrix"},
        ),
        Case(
            "POST",
            f"{e}/milestones/{{milestone_id}}/activate",
            seen(ENGAGEMENT_SEEN, 403, 401, **dict.fromkeys(sourcers, 202)),
            "not funded",
            {"engagement_id": w["contracted"], "milestone_id": w["unfunded_milestone"]},
            {},
        ),
        Case(
            "POST",
            f"{e}/hours/{{week_start}}/approve",
            seen(ENGAGEMENT_SEEN, 403, 401, **dict.fromkeys(sourcers, 200)),
            "ended week",
            {"engagement_id": w["contracted"], "week_start": "2026-11-23"},
            {"comment": "matrix"},
        ),
        # Deliverables: an engagement's files as its page; the quarantine for security
        # reviewers (audrey is one), program admins and auditors; a release for program admins.
        Case("GET", e + "/deliverables", seen(ENGAGEMENT_SEEN, 200, 401), "", eng_id),
        Case("GET", "/api/v1/deliverables/quarantined", only(OVERSEERS, 200, 403, 401)),
        Case(
            "POST",
            "/api/v1/deliverables/{deliverable_id}/release",
            seen(ENGAGEMENT_SEEN, 403, 401, program_admin=202),
            "quarantined",
            {"deliverable_id": w["quarantined_file"]},
            {"reason": "matrix"},
        ),
        Case("GET", "/api/v1/policy", everyone(200, 401)),
        Case("GET", "/api/v1/cost-centers", everyone(200, 401)),
        Case("GET", "/api/v1/audit/events", only(OVERSEERS, 200, 403, 401)),
        Case("GET", "/api/v1/audit/verify", only(OVERSEERS, 200, 403, 401)),
        Case("GET", "/api/v1/workspaces", everyone(200, 401)),
        Case(
            "POST",
            "/api/v1/workspaces",
            only(["program_admin"], 201, 403, 401),
            body={"name": "Matrix room"},
        ),
        Case("GET", "/api/v1/workspaces/teams", everyone(200, 401)),
        Case("POST", "/api/v1/workspaces/teams/refresh", only(["program_admin"], 202, 403, 401)),
        Case("GET", "/api/v1/access/review", only(OVERSEERS, 200, 403, 401)),
        Case("GET", "/api/v1/agreements", only(AGREEMENT_READERS, 200, 403, 401)),
        Case(
            "POST",
            "/api/v1/agreements",
            only(AGREEMENT_KEEPERS, 201, 403, 401),
            body={
                "email": "matrix@freelancers.example",
                "name": "NDA",
                "signed_on": "2026-01-05",
                "evidence_url": "https://docs.example/nda.pdf",
            },
        ),
        Case(
            "POST",
            "/api/v1/agreements/send",
            only(SIGNATURE_SENDERS, 202, 403, 401),
            body={"email": "matrix@freelancers.example", "names": ["NDA"]},
        ),
        Case(
            "POST",
            "/api/v1/agreements/{agreement_id}/evidence",
            only(AGREEMENT_KEEPERS, 200, 403, 401),
            "",
            {"agreement_id": w["agreement"]},
            files={"evidence_file": ("nda.pdf", b"%PDF-1.7 matrix")},
        ),
        Case(
            "GET",
            "/api/v1/agreements/{agreement_id}/evidence",
            only(AGREEMENT_READERS, 404, 403, 401),
            "no upload",
            {"agreement_id": w["agreement"]},
        ),
        Case(
            "GET",
            "/api/v1/agreements/{agreement_id}/evidence",
            only(AGREEMENT_READERS, 200, 403, 401),
            "uploaded",
            {"agreement_id": w["agreement_with_evidence"]},
        ),
        Case(
            "POST",
            "/api/v1/agreements/{agreement_id}/revoke",
            only(AGREEMENT_KEEPERS, 200, 403, 401),
            "",
            {"agreement_id": w["agreement"]},
            {"reason": "matrix"},
        ),
    ]


def web_cases(w: dict) -> list[Case]:
    """Web routes; signed-out visitors of a signed-in page are sent to sign in (302)."""
    draft = {"pk": w["draft"]}
    eng = {"pk": w["engagement"]}
    return [
        Case("GET", "", everyone(200, 302)),  # the home: a panel per role held
        # Global search: only what each may open is listed (gigbridge/web/tests/test_search.py);
        # empty or longer than 100 characters is a 400 page that says why.
        Case("GET", "search/", everyone(200, 302), "a title", query="?q=Approved"),
        Case("GET", "search/", everyone(200, 302), "a reference", query="?q=WR-000001"),
        Case("GET", "search/", everyone(400, 302), "too long", query="?q=" + "x" * 101),
        Case("GET", "search/", everyone(400, 302), "empty", query="?q="),
        Case("GET", "login/", everyone(302, 200)),
        Case("GET", "logout/", everyone(405, 405)),  # sign-out is a POST
        Case("GET", "auth/oidc/login/", everyone(404, 404)),  # OIDC is not configured here
        Case("GET", "auth/oidc/callback", everyone(404, 404)),
        Case("GET", "requests/", everyone(200, 302)),
        Case("GET", "requests/new/", only(REQUESTERS, 200, 403, 302)),
        Case("GET", "requests/<int:pk>/", seen(DRAFT_SEEN, 200, 302), "draft", draft),
        Case(
            "GET",
            "requests/<int:pk>/",
            seen(WITHDRAWN_SEEN, 200, 302),
            "withdrawn",
            {"pk": w["withdrawn"]},
        ),
        Case(
            "GET",
            "requests/<int:pk>/edit/",
            seen(["requester"], 200, 302, **dict.fromkeys(OVERSEERS, 403)),
            "",
            draft,
        ),
        Case(
            "POST",
            "requests/<int:pk>/submit/",
            seen(["requester"], 302, 302, **dict.fromkeys(OVERSEERS, 403)),
            "",
            draft,
        ),
        Case(
            "POST",
            "requests/<int:pk>/withdraw/",
            seen(["requester"], 302, 302, **dict.fromkeys(OVERSEERS, 403)),
            "",
            draft,
        ),
        Case("GET", "approvals/", everyone(200, 302)),
        Case(
            "GET",
            "approvals/<int:pk>/",
            seen(["procurement"], 200, 302, **SEES_STEP_ONLY),
            "procurement's step",
            {"pk": w["step"]},
        ),
        # A mailed link works only for the person it was sent to (the token is signed).
        Case(
            "GET",
            "a/<str:token>/",
            only(["procurement"], 200, 400, 302),
            "paula's link",
            {"token": w["token"]},
        ),
        Case("GET", "engagements/", everyone(200, 302)),
        Case("GET", "engagements/<int:pk>/", seen(ENGAGEMENT_SEEN, 200, 302), "", eng),
        Case(
            "POST",
            "engagements/<int:pk>/proposals/<int:proposal_pk>/<str:what>/",
            seen(ENGAGEMENT_SEEN, 403, 302, requester=302, program_admin=302),
            "shortlist",
            {**eng, "proposal_pk": w["proposal"], "what": "shortlist"},
        ),
        *[
            Case(
                "POST",
                f"engagements/<int:pk>/milestones/<int:ms_pk>/{what}/",
                seen(ENGAGEMENT_SEEN, 403, 302, requester=302, program_admin=302),
                label,
                {"pk": w["contracted"], "ms_pk": w[milestone]},
                body,
            )
            for what, label, milestone, body in (
                ("approve", "submitted", "submitted_milestone", {"amount": "100.00"}),
                ("changes", "submitted", "submitted_milestone", {"comment": "matrix"}),
                ("activate", "not funded", "unfunded_milestone", {}),
            )
        ],
        Case(
            "POST",
            "engagements/<int:pk>/hours/<str:week>/approve/",
            seen(ENGAGEMENT_SEEN, 403, 302, requester=302, program_admin=302),
            "ended week",
            {"pk": w["contracted"], "week": "2026-11-23"},
        ),
        Case(
            "POST",
            "engagements/<int:pk>/end/",
            seen(ENGAGEMENT_SEEN, 403, 302, requester=302, program_admin=302),
            "contracted direct hire",
            {"pk": w["contracted_direct"]},
            {"reason": "work_completed", "confirm": "1"},
        ),
        Case(
            "POST",
            "engagements/<int:pk>/start/",
            seen(ENGAGEMENT_SEEN, 403, 302, requester=302, program_admin=302),
            "direct hire in sourcing",
            {"pk": w["sourcing_direct"]},
        ),
        Case(
            "POST",
            "engagements/<int:pk>/transition/",
            seen(ENGAGEMENT_SEEN, 403, 302, program_admin=302),
            "",
            eng,
            {"state": "cancelled", "reason": "matrix"},
        ),
        Case("GET", "deliverables/quarantine/", only(OVERSEERS, 200, 403, 302)),
        Case(
            "POST",
            "deliverables/<int:pk>/release/",
            seen(ENGAGEMENT_SEEN, 403, 302, program_admin=302),
            "quarantined",
            {"pk": w["quarantined_file"]},
            {"reason": "matrix"},
        ),
        Case("GET", "policy/", everyone(200, 302)),
        # The program hub: every employee reads it; a program admin edits and publishes it.
        Case("GET", "hub/", everyone(200, 302)),
        Case("GET", "hub/<str:slug>/", everyone(200, 302), "", {"slug": "approvals"}),
        Case("GET", "hub/edit/", only(["program_admin"], 200, 403, 302)),
        Case(
            "POST",
            "hub/edit/",
            only(["program_admin"], 302, 403, 302),
            "save the introduction",
            {},
            {"markdown": "# Matrix", "save": "1"},
        ),
        Case("POST", "hub/publish/", only(["program_admin"], 302, 403, 302)),
        # The set-up wizard runs only while no policy is active: here one is, so it is closed.
        Case("GET", "setup/", everyone(404, 404)),
        Case("POST", "setup/", everyone(404, 404), body={"setup_code": "x"}),
        Case("GET", "setup/review/", everyone(404, 404)),
        Case("POST", "setup/review/", everyone(404, 404)),
        Case("GET", "audit/", only(OVERSEERS, 200, 403, 302)),
        Case("GET", "access/", only(OVERSEERS, 200, 403, 302)),
        Case("GET", "workspaces/", everyone(200, 302)),
        Case(
            "POST",
            "workspaces/",
            only(["program_admin"], 302, 403, 302),
            "refresh the Teams",
            body={"refresh": "1"},
        ),
        Case("GET", "me/", everyone(200, 302)),
        Case("GET", "agreements/", only(AGREEMENT_READERS, 200, 403, 302)),
        Case(
            "POST",
            "agreements/",
            only(AGREEMENT_KEEPERS, 302, 403, 302),
            "record",
            body={"email": "matrix@freelancers.example", "name": "NDA", "signed_on": "2026-01-05"},
        ),
        Case(
            "GET",
            "agreements/<int:pk>/evidence/",
            only(AGREEMENT_READERS, 404, 403, 302),
            "no upload",
            {"pk": w["agreement"]},
        ),
        Case(
            "GET",
            "agreements/<int:pk>/evidence/",
            only(AGREEMENT_READERS, 200, 403, 302),
            "uploaded",
            {"pk": w["agreement_with_evidence"]},
        ),
        Case(
            "POST",
            "agreements/send/",
            only(SIGNATURE_SENDERS, 302, 403, 302),
            "",
            body={"email": "matrix@freelancers.example"},
        ),
        # A mailed signing link needs no account: the signed token is the credential.
        Case("GET", "s/<str:token>/", {r: SAME for r in ROLES}, "", {"token": w["signing_token"]}),
        Case(
            "POST",
            "agreements/<int:pk>/revoke/",
            only(AGREEMENT_KEEPERS, 302, 403, 302),
            "",
            {"pk": w["agreement"]},
            {"reason": "matrix"},
        ),
        Case("GET", "healthz", {r: SAME for r in ROLES}),
        # Graph's subscription handshake: public, the clientState guards notifications.
        Case("POST", "hooks/graph", {r: SAME for r in ROLES}, query="?validationToken=matrix"),
        # The Bot Connector's activities: public, its signed JWT guards them (no bot here: 404).
        Case("POST", "hooks/teams", {r: SAME for r in ROLES}),
        Case("GET", "integrations/upwork/", only(["program_admin"], 200, 403, 302)),
        Case(
            "GET",
            "integrations/upwork/callback",
            only(["program_admin"], 400, 403, 302),
            "no state",
        ),
        Case("GET", "analytics/", only(ANALYSTS, 200, 403, 302)),
        *[
            Case("GET", f"analytics/<str:slug>.{ext}", only(ANALYSTS, 200, 403, 302), "", slug)
            for ext in ("csv", "parquet")
            for slug in ({"slug": "spend-by-category"},)
        ],
        # The OData feed (plain views under /api/v1/analytics, outside the OpenAPI description):
        # a token or, as here, the browser session; signed out is 401 with a challenge.
        *[
            Case("GET", route, only(ANALYSTS, 200, 403, 401), "", {"name": "RequestFacts"})
            for route in (
                "api/v1/analytics",
                "api/v1/analytics/",
                "api/v1/analytics/$metadata",
                "api/v1/analytics/<str:name>",
                "api/v1/analytics/<str:name>/$count",
            )
        ],
        Case(
            "GET",
            "api/v1/analytics/<path:rest>",
            only(ANALYSTS, 404, 403, 401),
            "not served",
            {"rest": "RequestFacts/3/budget_cents"},
        ),
    ]


@pytest.fixture
def world(people, tmp_path, settings):
    """The objects the pages need, made the way the product makes them."""
    import datetime as dt
    from decimal import Decimal

    from gigbridge import clock
    from gigbridge.engagements import actions, links
    from gigbridge.engagements.models import ApprovalStep, DecisionLink, Engagement
    from gigbridge.people.actions import record_agreement, send_for_signature
    from gigbridge.people.importer import import_file
    from gigbridge.people.signing import token_for as signing_token_for
    from gigbridge.program.models import CostCenter
    from gigbridge.sourcing import actions as marketplace
    from gigbridge.sourcing.models import Milestone, Proposal, Sourcing, TimeEntry

    csv = tmp_path / "people.csv"
    csv.write_text(
        "email,first_name,last_name,kind,country,manager_email,username,roles\n"
        "nora@contoso.example,Nora,Norole,employee,DE,,nora,\n"
    )
    import_file(csv, actor="tests")

    def new(**overrides):
        data = request_payload(**overrides)
        data["cost_center"] = CostCenter.objects.get(code=data["cost_center"])
        data["start_date"] = dt.date.fromisoformat(data["start_date"])
        data["end_date"] = dt.date.fromisoformat(data["end_date"])
        return actions.create_request(people["rita"], data)

    def manager_step(request):
        return request.steps.get(role="manager", state=ApprovalStep.State.PENDING)

    draft = new(title="Still a draft")
    in_approval = actions.submit_request(people["rita"], new(budget="6000"))
    actions.decide(people["max"], manager_step(in_approval), "approve")
    step = in_approval.steps.get(role="procurement", state=ApprovalStep.State.PENDING)
    link = DecisionLink.objects.get(step=step, user=people["paula"])
    withdrawn = actions.submit_request(
        people["rita"],
        new(
            budget="30000",
            data_classification="confidential",
            worker_category="contingent",
            cost_center="CC-ENG",
            task_category="software-development",
        ),
    )
    actions.withdraw_request(people["rita"], withdrawn)
    approved = actions.submit_request(people["rita"], new(title="Approved work"))
    actions.decide(people["max"], manager_step(approved), "approve")
    engagement = approved.engagement
    marketplace.sourcing_of(engagement)
    # Proposals arrive only from the marketplace sync; here one is written as it would store it.
    proposal = Proposal.objects.create(
        engagement=engagement,
        upwork_id="matrix-p1",
        freelancer_name="Freya",
        freelancer_email="freya@freelancers.example",  # a demo freelancer with NDA and MSA
        profile_key="~01freya",
        country="PT",
        received_at=clock.now(),
    )
    # A direct hire under contract (not freya: she is the proposal's freelancer): its contract
    # can be ended.
    # dario: a second direct hire, still in sourcing, whose contract can be started.
    for email in ("dora@freelancers.example", "dario@freelancers.example"):
        for name in ("NDA", "MSA"):
            record_agreement(
                people["lena"],
                email=email,
                name=name,
                signed_on=dt.date(2026, 1, 5),
                evidence_url="https://docs.example/signed.pdf",
            )
    direct = actions.submit_request(
        people["rita"],
        new(
            title="Direct hire",
            sourcing="direct",
            freelancer_email="dora@freelancers.example",
            freelancer_country="PT",
        ),
    )
    actions.decide(people["max"], manager_step(direct), "approve")
    contracted_direct = actions.transition_engagement(
        people["ada"], direct.engagement, "contracted"
    )
    # A direct hire of dario approved and waiting in sourcing: its contract can be started.
    sourcing_direct = actions.submit_request(
        people["rita"],
        new(
            title="Direct hire to start",
            sourcing="direct",
            freelancer_email="dario@freelancers.example",
            freelancer_country="PT",
        ),
    )
    actions.decide(people["max"], manager_step(sourcing_direct), "approve")
    # A contracted engagement with work to decide, as the marketplace sync stores it.
    contracted = actions.submit_request(people["rita"], new(title="Contracted work"))
    actions.decide(people["max"], manager_step(contracted), "approve")
    contracted = contracted.engagement
    Engagement.objects.filter(pk=contracted.pk).update(state=Engagement.State.CONTRACTED)
    Sourcing.objects.filter(pk=marketplace.sourcing_of(contracted).pk).update(contract_id="k9")
    submitted_milestone, unfunded_milestone = (
        Milestone.objects.create(
            engagement=contracted,
            upwork_id=f"matrix-m{n}",
            sequence=n,
            description=f"Part {n}",
            amount=Decimal("500.00") if state == "SUBMITTED" else None,
            state=state,
            submitted_at=clock.now() if state == "SUBMITTED" else None,
        )
        for n, state in ((1, "SUBMITTED"), (2, "NOT_FUNDED"))
    )
    TimeEntry.objects.create(  # in the week of Monday 2026-11-23, which has ended
        engagement=contracted,
        contract_id="k9",
        date=dt.date(2026, 11, 24),
        hours=Decimal("6.00"),
        amount=Decimal("510.00"),
        synced_at=clock.now(),
    )
    agreement = record_agreement(
        people["lena"],
        email="mona@freelancers.example",
        name="NDA",
        signed_on=dt.date(2026, 1, 5),
        evidence_url="https://docs.example/mona-nda.pdf",
    )
    signing_link = send_for_signature(people["lena"], email="mona@freelancers.example")
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.DATA_DIR = tmp_path  # uploaded evidence is kept in the data folder
    with_evidence = record_agreement(
        people["lena"],
        email="mona@freelancers.example",
        name="MSA",
        signed_on=dt.date(2026, 1, 5),
        evidence_upload=SimpleUploadedFile("msa.pdf", b"%PDF-1.7 mona's MSA"),
    )
    # A file of the engagement's freelancer, scanned infected and quarantined, as the files app
    # records it.
    from gigbridge.files.models import Deliverable

    quarantined_file = Deliverable.objects.create(
        engagement=engagement,
        drive_id="b!matrix",
        item_id="matrix-item",
        version_id="1.0",
        name="invoice.exe",
        size=68,
        added_at=clock.now(),
        recorded_at=clock.now(),
        verdict=Deliverable.Verdict.INFECTED,
        signature="Eicar-Test-Signature",
        state=Deliverable.State.QUARANTINED,
    )
    return {
        "quarantined_file": quarantined_file.pk,
        "agreement": agreement.pk,
        "agreement_with_evidence": with_evidence.pk,
        "signing_token": signing_token_for(signing_link.nonce),
        "draft": draft.pk,
        "in_approval": in_approval.pk,
        "step": step.pk,
        "token": links.token_for(link.nonce),
        "withdrawn": withdrawn.pk,
        "engagement": engagement.pk,
        "proposal": proposal.pk,
        "contracted": contracted.pk,
        "contracted_direct": contracted_direct.pk,
        "sourcing_direct": sourcing_direct.engagement.pk,
        "submitted_milestone": submitted_milestone.pk,
        "unfunded_milestone": unfunded_milestone.pk,
    }


def api_operations() -> set[tuple[str, str]]:
    from gigbridge.api.main import api

    paths = api.get_openapi_schema()["paths"]
    return {(m.upper(), p) for p, ops in paths.items() for m in ops}


def web_routes() -> set[str]:
    """Every route of the URL conf outside the API (which the OpenAPI description covers)."""
    found = set()

    def walk(patterns, prefix):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                if not route.startswith("api/v1/"):
                    walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                found.add(route)

    walk(get_resolver().url_patterns, "")
    return found


def fill(route: str, params: dict) -> str:
    for name, value in params.items():
        for form in (
            f"{{{name}}}",
            f"<int:{name}>",
            f"<str:{name}>",
            f"<path:{name}>",
            f"<{name}>",
        ):
            route = route.replace(form, str(value))
    assert "{" not in route and "<" not in route, route
    return route


def answer(client: Client, case: Case, url: str, as_json: bool) -> int:
    """The status code, with everything the call wrote rolled back."""
    with transaction.atomic():
        if case.method == "GET":
            response = client.get(url)
        elif case.files:
            from django.core.files.uploadedfile import SimpleUploadedFile

            files = {k: SimpleUploadedFile(name, data) for k, (name, data) in case.files.items()}
            response = client.post(url, {**(case.body or {}), **files})
        elif as_json:
            response = client.generic(
                case.method, url, json.dumps(case.body or {}), content_type="application/json"
            )
        else:
            response = client.post(url, case.body or {})
        transaction.set_rollback(True)
    return response.status_code


def check(cases: list[Case], clients: dict, url_of, as_json: bool) -> list[str]:
    wrong = []
    for case in cases:
        url = url_of(case)
        got = {role: answer(clients[role], case, url, as_json) for role in ROLES}
        for role, expected in case.expect.items():
            if expected == SAME:
                expected = got["anonymous"]
            if got[role] != expected:
                wrong.append(
                    f"{case.method} {case.route} [{case.label}] as {role} ({ROLES[role]}): "
                    f"expected {expected}, got {got[role]}"
                )
    return wrong


def test_every_api_operation_has_an_expectation_for_every_role(world):
    cases = api_cases(world)
    listed = {(c.method, c.route) for c in cases}
    missing = api_operations() - listed
    assert not missing, f"add rows to api_cases for the new operations: {sorted(missing)}"
    assert not listed - api_operations(), "rows for operations that no longer exist"
    assert all(set(c.expect) == set(ROLES) for c in cases)
    from django.contrib.auth import get_user_model

    from gigbridge.people.actions import create_api_token

    clients = {"anonymous": Client()}
    for role, username in ROLES.items():
        if username:
            _, secret = create_api_token(get_user_model().objects.get(username=username), "t")
            clients[role] = Client(headers={"authorization": f"Bearer {secret}"})
    wrong = check(cases, clients, lambda c: fill(c.route, c.params) + c.query, as_json=True)
    assert not wrong, "\n".join(wrong)


def test_every_web_route_has_an_expectation_for_every_role(world):
    cases = web_cases(world)
    listed = {c.route for c in cases}
    missing = web_routes() - listed
    assert not missing, f"add rows to web_cases for the new routes: {sorted(missing)}"
    assert not listed - web_routes(), "rows for routes that no longer exist"
    assert all(set(c.expect) == set(ROLES) for c in cases)
    from django.contrib.auth import get_user_model

    clients = {}
    for role, username in ROLES.items():
        clients[role] = Client()
        if username:
            clients[role].force_login(get_user_model().objects.get(username=username))
    wrong = check(cases, clients, lambda c: "/" + fill(c.route, c.params) + c.query, False)
    assert not wrong, "\n".join(wrong)
