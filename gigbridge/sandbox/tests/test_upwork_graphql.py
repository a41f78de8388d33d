"""Upwork emulator GraphQL: tenants, errors in GraphQL's shape, scopes, inputs, limits, faults."""

from __future__ import annotations

import pytest

from .upwork_support import (
    CREATE_JOB,
    RESET,
    Upwork,
    advance,
    app_token,
    hourly_job,
    set_dials,
    upwork,
)

ORG = "query Organization { organization { id name } }"


@pytest.fixture(scope="module")
def access(http_module):
    http, info = http_module
    return app_token(http, info)


@pytest.fixture(scope="module")
def http_module(sandbox, info):
    import httpx

    from gigbridge.sandbox.client import ssl_context_from

    with httpx.Client(base_url=sandbox.url, verify=ssl_context_from(info["ca_cert"]),
                      timeout=10) as client:  # fmt: skip
        yield client, info


@pytest.fixture
def api(http, info, access):
    return Upwork(http, info, access)


@pytest.fixture
def dials(http, info):
    yield lambda **changes: set_dials(http, info, **changes)
    set_dials(http, info, **RESET)


def test_tenant_header_picks_the_organization(api, info):
    engineering, design = upwork(info)["tenant_ids"][:2]

    assert api.data(ORG)["organization"]["id"] == engineering  # Ada's default
    assert api.data(ORG, tenant=design)["organization"]["id"] == design
    refused = api.post(ORG, tenant="1500000000000000999")
    assert refused.status_code == 403

    items = api.data("query CompanySelector { companySelector { items { organizationId title } } }")
    assert {i["organizationId"] for i in items["companySelector"]["items"]} >= {engineering, design}


def test_unknown_field_is_a_graphql_error_with_location_and_path(api):
    response = api.post("query Organization {\n  organization { id salary }\n}")

    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert '"salary"' in error["message"]
    assert error["locations"] == [{"line": 2, "column": 21}]
    assert error["path"] == ["organization", "salary"]


def test_unknown_root_field_and_syntax_errors(api):
    unknown = api.post("query { weather { id } }").json()
    assert 'Cannot query field "weather"' in unknown["errors"][0]["message"]
    broken = api.post("query {").json()
    assert broken["errors"][0]["locations"]


def test_aliases_fragments_and_unmodelled_fields(api):
    data = api.data(
        "query Organization { org: organization { ...Names photoUrl company { summary } } }"
        " fragment Names on Organization { id label: name }"
    )
    org = data["org"]
    assert set(org) == {"id", "label", "photoUrl", "company"}
    assert org["photoUrl"] is None and org["company"] == {"summary": None}


def test_missing_variable_is_an_error(api):
    response = api.post("query Offer($id: String!) { offer(id: $id) { id } }")
    assert "was not provided" in response.json()["errors"][0]["message"]


def test_missing_scope_names_it(http, info):
    limited = Upwork(http, info, app_token(http, info, upwork(info)["read_only_client"]))
    assert limited.data(ORG)["organization"]
    body = limited.post(
        CREATE_JOB, {"jobPostingRequest": hourly_job(upwork(info)["default_tenant_id"])}
    ).json()
    assert body["data"] == {"createJobPosting": None}
    assert "Job Postings - Read and Write Access" in body["errors"][0]["message"]
    assert body["errors"][0]["path"] == ["createJobPosting"]


def test_unknown_input_field_is_named(api, info):
    job = hourly_job(upwork(info)["default_tenant_id"])
    body = api.post(CREATE_JOB, {"jobPostingRequest": {**job, "salary": 5}}).json()
    message = body["errors"][0]["message"]
    assert '"salary"' in message and "JobPostingCreateRequest" in message


def test_rate_limit_answers_429_with_retry_after_then_recovers(api, http, info, dials):
    # A slow refill, so however slow this machine is the eleventh call finds the bucket empty.
    dials(throttle={"rate": 0.5, "burst": 10})
    statuses = [api.post(ORG).status_code for _ in range(10)]
    throttled = api.post(ORG)

    assert statuses == [200] * 10
    assert throttled.status_code == 429 and 1 <= int(throttled.headers["retry-after"]) <= 2

    advance(http, info, 3)  # the bucket refills on the sandbox clock
    assert api.post(ORG).status_code == 200


def test_seeded_faults_answer_503(api, dials):
    dials(throttle=None, faults={"error_rate": 1.0, "retry_after": 3})
    failed = api.post(ORG)
    assert failed.status_code == 503 and failed.headers["retry-after"] == "3"
    dials(faults={"error_rate": 0.0})
    assert api.post(ORG).status_code == 200


def test_control_needs_tools_credentials(http, info):
    assert http.get(f"{upwork(info)['tools_url']}/control").status_code == 401
    bad = http.post(f"{upwork(info)['tools_url']}/control", json={"weather": 1},
                    auth=(info["client_id"], info["client_secret"]))  # fmt: skip
    assert bad.status_code == 400
