"""Schemathesis against the API description (/api/v1/openapi.json), in CI on every run.

Each API operation is called with generated input, valid and invalid, as a program admin and
as a requester (bearer tokens of the demo people), and fails on any server error, a response
that does not match its documented schema, an undocumented content type or status code. The run
is bounded (GIGBRIDGE_FUZZ_EXAMPLES per operation, mode and role; 25 by default) and
derandomized, so CI is reproducible: a failure here fails the same way on a developer's machine.

The data an operation needs to find something (a draft, a pending approval step, a withdrawn
request, an engagement) is made through the API itself before each operation is fuzzed; path
ids are drawn half from those and half generated.
"""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import request_payload
from gigbridge.api.main import api as ninja_api
from gigbridge.people.actions import create_api_token
from gigbridge.wsgi import application

EXAMPLES = int(os.environ.get("GIGBRIDGE_FUZZ_EXAMPLES", "25"))
ROLES = {"program admin": "ada", "requester": "rita"}
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    status_code_conformance,
]



def in_test_transaction(environ, start_response):
    """The product's WSGI app, served inside the test's database transaction.

    Django closes "old" database connections when a request starts and finishes, which in a
    test would drop its transaction (and its data); Django's own test client switches that
    off around each request in the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = application(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


SCHEMA = schemathesis.openapi.from_dict(ninja_api.get_openapi_schema())
SCHEMA.app = in_test_transaction  # in-process: the test database, no server, no port
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


def test_the_fuzzed_description_is_the_served_one(db):
    served = Client().get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert json.loads(served.content) == json.loads(json.dumps(ninja_api.get_openapi_schema()))


def _ok(response, status=200) -> dict:
    assert response.status_code == status, response.content[:500]
    return response.json()


@pytest.fixture
def known_ids(api, settings, tmp_path) -> dict[str, list[int]]:
    """A draft, a pending approval, a withdrawn request, an engagement and an agreement, made
    via the API."""
    settings.DATA_DIR = tmp_path  # uploaded evidence lands in the data folder
    rita, max_ = api("rita"), api("max")

    def create(**overrides) -> int:
        body = json.dumps(request_payload(**overrides))
        return _ok(rita.post("/api/v1/requests", body, "application/json"), 201)["id"]

    draft = create(title="Draft for the fuzzer")
    pending = create(title="Pending for the fuzzer")
    _ok(rita.post(f"/api/v1/requests/{pending}/submit"))
    withdrawn = create(title="Withdrawn for the fuzzer")
    _ok(rita.post(f"/api/v1/requests/{withdrawn}/submit"))
    _ok(rita.post(f"/api/v1/requests/{withdrawn}/withdraw"))
    approved = create(title="Approved for the fuzzer")
    _ok(rita.post(f"/api/v1/requests/{approved}/submit"))
    inbox = _ok(max_.get("/api/v1/approvals?limit=50"))["items"]
    steps = [a["step"]["id"] for a in inbox]
    approved_step = next(a["step"]["id"] for a in inbox if a["request"]["id"] == approved)
    decision = json.dumps({"decision": "approve", "comment": "ok"})
    _ok(max_.post(f"/api/v1/approvals/{approved_step}/decision", decision, "application/json"))
    engagements = [e["id"] for e in _ok(rita.get("/api/v1/engagements?limit=50"))["items"]]
    assert engagements, "an approved small request becomes an engagement"
    agreement = json.dumps(
        {"email": "fuzz@freelancers.example", "name": "NDA", "signed_on": "2026-01-05"}
    )
    recorded = _ok(api("ada").post("/api/v1/agreements", agreement, "application/json"), 201)
    return {
        "agreement_id": [recorded["id"]],
        "request_id": [draft, pending, withdrawn, approved],
        "step_id": steps,
        "engagement_id": engagements,
        "proposal_id": [1],
    }


def _strategy(operation, mode: GenerationMode, known: dict[str, list[int]]):
    generated = operation.as_strategy(generation_mode=mode)
    names = [p.name for p in operation.path_parameters]
    if not names or any(name not in known for name in names):
        return generated
    existing = st.fixed_dictionaries({name: st.sampled_from(known[name]) for name in names})
    return st.one_of(
        generated,
        existing.flatmap(
            lambda path: operation.as_strategy(generation_mode=mode, path_parameters=path)
        ),
    )


def _fuzz(operation, mode: GenerationMode, known: dict, roles: dict, statuses: Counter):
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # the same cases on every run and machine
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the run stays bounded
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation, mode, known))
    def call(case):
        for role, headers in roles.items():
            response = case.call(headers=headers)
            statuses[role, response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (AssertionError, BaseExceptionGroup) as exc:  # name who and with what
                raise AssertionError(
                    f"as the {role} ({ROLES[role]}), {mode.value} input: {exc}"
                ) from exc

    call()


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_the_api_keeps_its_description(operation, people, known_ids):
    # Each generated case is sent once as each role: generation is the costly part.
    roles, statuses = {}, Counter()
    for role, username in ROLES.items():
        _, token = create_api_token(people[username], "schemathesis")
        roles[role] = {"Authorization": f"Bearer {token}"}
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        _fuzz(operation, mode, known_ids, roles, statuses)
    print(operation.label, sorted(statuses.items()))
    # The harness itself: every role got past authentication (a wrong token would make
    # every answer a well-formed 401, and the run would prove nothing).
    for role in ROLES:
        assert sum(n for (r, status), n in statuses.items() if r == role and status != 401)
