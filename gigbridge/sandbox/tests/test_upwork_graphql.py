"""Upwork emulator GraphQL: tenants, graphql-core's validation and errors, scopes, the rate limit
per client IP, faults."""

from __future__ import annotations

import httpx
import pytest
from graphql import parse, validate
from graphql.execution.values import get_variable_values
from graphql.language import OperationDefinitionNode

from gigbridge.sandbox.client import ssl_context_from
from gigbridge.sandbox.upwork.executor import schema

from .upwork_support import RESET, Upwork, advance, app_token, set_dials, upwork

ORG = "query Organization { organization { id name } }"


@pytest.fixture(scope="module")
def access(http_module):
    http, info = http_module
    return app_token(http, info)


@pytest.fixture(scope="module")
def http_module(sandbox, info):
    with httpx.Client(base_url=sandbox.url, verify=ssl_context_from(info["ca_cert"]),
                      timeout=10) as client:  # fmt: skip
        yield client, info


@pytest.fixture
def api(http, info, access):
    return Upwork(http, info, access)


@pytest.fixture(autouse=True)
def unthrottled(http, info):
    """The limit is per client IP, shared by every test here; the rate limit has its own test."""
    set_dials(http, info, throttle=None)
    yield
    set_dials(http, info, **RESET)


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


# Documents and variables Upwork's documented schema refuses. Each is answered with what
# graphql-core itself answers against that schema (``refusal``): errors, no data, HTTP 200.
ACTIVATE = (
    "mutation ActivateMilestone($input: ActivateMilestoneInput) {"
    " activateMilestone(input: $input) { id } }"
)
OFFER = "query Offer($id: String!) { offer(id: $id) { id } }"
INVALID = {
    "unknown field": ("query Organization {\n  organization { id salary }\n}", None),
    "unknown root field": ("query { weather { id } }", None),
    "leaf with a selection": ("query Organization { organization { id { value } } }", None),
    "object without a selection": ("query Organization { organization }", None),
    "missing required argument": ("query Offer { offer { id } }", None),
    "unknown argument": ('query Offer { offer(id: "1", status: "OPEN") { id } }', None),
    "wrong argument literal": ("query Offer { offer(id: 42) { id } }", None),
    "variable of the wrong declared type": (OFFER.replace("String!", "Int!"), {"id": 1}),
    "wrong variable value": (OFFER, {"id": 42}),
    "missing variable": (OFFER, {}),
    "undocumented input field": (ACTIVATE, {"input": {"id": "1", "milestoneId": "1"}}),
    "missing required input field": (ACTIVATE, {"input": {"message": "Funded"}}),
    "undocumented inline input field": (
        'mutation WithdrawOffer { withdrawOffer(input: {offerId: "1", reason: "filled"}) }',
        None,
    ),
}


def refusal(document: str, variables: dict | None) -> dict:
    """What graphql-core answers for an invalid request against the generated schema."""
    parsed = parse(document)
    errors = validate(schema(), parsed)
    if not errors:
        (operation,) = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
        coerced = get_variable_values(
            schema(), operation.variable_definitions or (), variables or {}
        )
        assert isinstance(coerced, list), "the document and its variables are valid"
        errors = coerced
    return {"errors": [error.formatted for error in errors]}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_request_is_refused_as_graphql_core_refuses_it(api, case):
    document, variables = INVALID[case]
    response = api.post(document, variables)

    assert response.status_code == 200
    assert response.json() == refusal(document, variables)


def test_unknown_field_error_names_it_with_its_location(api):
    (error,) = api.post("query Organization {\n  organization { id salary }\n}").json()["errors"]
    assert "'salary'" in error["message"] and "CurrentOrganization" in error["message"]
    assert error["locations"] == [{"line": 2, "column": 21}]


def test_syntax_error_has_a_location_and_no_data(api):
    body = api.post("query {").json()
    assert "data" not in body and body["errors"][0]["locations"]


def test_aliases_fragments_and_unmodelled_fields(api):
    data = api.data(
        "query Organization { org: organization { ...Names photoUrl flag { client }"
        " ... on CurrentOrganization { rid } company { id about: description } } }"
        " fragment Names on CurrentOrganization { id label: name }"
    )
    org = data["org"]
    assert set(org) == {"id", "label", "photoUrl", "flag", "rid", "company"}
    assert org["label"] and org["flag"] == {"client": True}
    assert org["photoUrl"] is None and org["company"] == {"id": org["id"], "about": None}


def test_resolver_error_is_a_null_field_with_a_code_beside_the_others(api):
    body = api.post('query { organization { id } offer(id: "1") { id } }').json()

    assert body["data"]["organization"]["id"] and body["data"]["offer"] is None
    (error,) = body["errors"]
    assert error["path"] == ["offer"] and error["extensions"] == {"code": "NOT_FOUND"}
    assert error["locations"] == [{"line": 1, "column": 29}]


def test_missing_scope_names_it(http, info):
    limited = Upwork(http, info, app_token(http, info, upwork(info)["read_only_client"]))
    assert limited.data(ORG)["organization"]
    body = limited.post('mutation WithdrawOffer { withdrawOffer(input: {offerId: "1"}) }').json()
    assert body["data"] == {"withdrawOffer": None}
    assert "Offers - Read and Write Access" in body["errors"][0]["message"]
    assert body["errors"][0]["path"] == ["withdrawOffer"]
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}


def test_rate_limit_is_per_client_ip_429_with_retry_after_then_recovers(
    api, http, info, sandbox, dials
):
    other_app = Upwork(http, info, app_token(http, info, upwork(info)["read_only_client"]))
    # A slow refill, so however slow this machine is the eleventh call finds the bucket empty.
    dials(throttle={"rate": 0.5, "burst": 10})
    statuses = [api.post(ORG).status_code for _ in range(5)]
    statuses += [other_app.post(ORG).status_code for _ in range(5)]
    throttled = api.post(ORG)

    assert statuses == [200] * 10
    assert throttled.status_code == 429 and 1 <= int(throttled.headers["retry-after"]) <= 2
    # Another key on the same machine shares the limit; another address has its own.
    assert other_app.post(ORG).status_code == 429
    context = ssl_context_from(info["ca_cert"])
    transport = httpx.HTTPTransport(verify=context, local_address="127.0.0.2")
    with httpx.Client(transport=transport, timeout=10) as elsewhere:
        assert Upwork(elsewhere, info, api.token).post(ORG).status_code == 200

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
