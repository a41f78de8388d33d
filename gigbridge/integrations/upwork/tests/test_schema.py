# ruff: noqa: E501
"""The Upwork schema generated from the reference judges the connector's documents and variables.

``reference/schema.graphql`` is built by ``scripts/gen_upwork_schema.py`` from Upwork's documented
operations and types (assumptions in ``reference/schema_overrides.py``). Here: it is current,
every documented operation Gigbridge uses validates against it, and so does every document the
connector sends and every set of variables its wrappers build. Where the connector is not (yet)
what Upwork documents, the failure is listed in KNOWN_INVALID, exactly: fixing one, or breaking
another, fails the test until the list says so.

Plain pytest, no database: ``pytest gigbridge/integrations/upwork/tests/test_schema.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib.util
import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from graphql import GraphQLError, build_schema, parse, validate
from graphql.execution.values import get_variable_values

from gigbridge.integrations.upwork import operations
from gigbridge.integrations.upwork.conformance import SUBSET_PATH

REPO_ROOT = Path(__file__).resolve().parents[4]
GENERATOR = REPO_ROOT / "scripts" / "gen_upwork_schema.py"
SCHEMA_PATH = REPO_ROOT / "gigbridge" / "integrations" / "upwork" / "reference" / "schema.graphql"
REFERENCE = REPO_ROOT.parent / "shared" / "reference" / "upwork"
needs_reference = pytest.mark.skipif(
    not (REFERENCE / "operations.graphql").is_file() or not (REFERENCE / "types.ts").is_file(),
    reason=f"Upwork reference not found at ../shared/reference/upwork/ ({REFERENCE})",
)

# issue 9 item 3: to fix. What the connector sends that Upwork's documented schema refuses:
# "document:<operation>" for a document, "variables:<case>" for the variables a wrapper builds
# (cases below), each with graphql-core's error messages (values left out, see _message).
KNOWN_INVALID: dict[str, tuple[str, ...]] = {}


@functools.cache
def generator():
    spec = importlib.util.spec_from_file_location("gen_upwork_schema", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@functools.cache
def schema():
    return build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))


def _message(error: GraphQLError) -> str:
    """graphql-core's message without the offending value (long, and it repeats the input)."""
    message = re.sub(r",? [Ff]ound: .*\Z", "", error.message, flags=re.S)
    return re.sub(
        r"^Variable '(\$\w+)' has invalid value( at [^:]+)?: Expected value of type '(\w+)' ",
        r"\1\2: \3 ",
        message,
    )


# -- the generated file -----------------------------------------------------------------------


@needs_reference
def test_committed_schema_is_regenerated_byte_for_byte():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == generator().generate(REFERENCE), (
        f"{SCHEMA_PATH.relative_to(REPO_ROOT)} disagrees with the reference, the overrides or "
        "the generator: run `python scripts/gen_upwork_schema.py` and commit the result"
    )


@needs_reference
def test_generator_check_flags_a_stale_file(tmp_path):
    stale = tmp_path / "schema.graphql"
    stale.write_text("# old\n")
    args = ["--reference", str(REFERENCE), "--output", str(stale)]
    assert generator().main([*args, "--check"]) == 1
    assert generator().main(args) == 0
    assert generator().main([*args, "--check"]) == 0


def test_schema_header_names_the_sources_and_their_sha256():
    head = SCHEMA_PATH.read_text(encoding="utf-8").splitlines()[:8]
    assert any(re.search(r"upwork/operations\.graphql sha256 [0-9a-f]{64}$", h) for h in head)
    assert any(re.search(r"upwork/types\.ts sha256 [0-9a-f]{64}$", h) for h in head)


def _subset_operations() -> dict[str, str]:
    text = SUBSET_PATH.read_text(encoding="utf-8")
    chunks = re.split(r"^(?=(?:query|mutation) )", text, flags=re.M)[1:]
    return {re.match(r"\w+ (\w+)", c).group(1): c for c in chunks}


def test_every_documented_operation_of_the_subset_validates():
    """Upwork's own documents (the committed verbatim copies), with the scrape's ``[string]``
    read as ``[String]`` and its scraped arguments taken out (see schema_overrides.py)."""
    documented = _subset_operations()
    assert len(documented) == 30
    for name, text in documented.items():
        document = generator().normalize_operation(text, schema())
        assert validate(schema(), document) == [], name


def test_schema_has_a_root_field_per_documented_operation():
    fields = {**schema().query_type.fields, **schema().mutation_type.fields}
    assert len(fields) == len(_subset_operations())
    assert str(fields["contractDetails"].type) == "ContractDetails"
    assert str(fields["createMilestoneV2"].args["input"].type) == "CreateMilestoneInput!"
    milestone = schema().get_type("CreateMilestoneInput").fields
    assert set(milestone) >= {"contractId", "description", "depositAmount", "dueDate"}


# -- what the connector sends -------------------------------------------------------------------


def _documents() -> dict[str, str]:
    return {f"document:{name}": text for name, text in operations.DOCUMENTS.items()}


def _document_errors(text: str) -> tuple[str, ...]:
    return tuple(_message(e) for e in validate(schema(), parse(text)))


class Recorder:
    """An UpworkClient that records what would be sent and answers nothing."""

    def __init__(self):
        self.sent: list[tuple[str, dict, str]] = []

    def execute(self, document, variables=None, operation=None, **_kwargs):
        self.sent.append((document, variables or {}, operation))
        return {}


DAY = dt.date(2026, 3, 2)
MOMENT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
USD = operations.money(Decimal("1500.00"), "USD")

# Each wrapper of operations.py, called the ways Gigbridge calls it.
CASES = {
    "create_job_posting_hourly": lambda c: operations.create_job_posting(
        c,
        title="Data pipeline",
        description="Build it",
        contract_type="HOURLY",
        skills=["python"],
        hourly_budget_min=operations.money("40", "USD"),
        hourly_budget_max=operations.money("60", "USD"),
        start_date=DAY,
        visibility="PUBLIC",
        category_id="531770282580668418",
        organization_id="org-1",
    ),
    "create_job_posting_fixed": lambda c: operations.create_job_posting(
        c,
        title="Logo",
        description="Draw it",
        contract_type="FIXED_PRICE",
        budget=USD,
        organization_id="org-1",
    ),
    "close_job_posting": lambda c: operations.close_job_posting(
        c, "job-1", organization_id="org-1"
    ),
    "list_client_proposals": lambda c: operations.list_client_proposals(c, "job-1", after="10"),
    "get_proposal": lambda c: operations.get_proposal(c, "proposal-1"),
    "shortlist_proposal": lambda c: operations.shortlist_proposal(
        c, "proposal-1", job_posting_id="job-1"
    ),
    "decline_proposal": lambda c: operations.decline_proposal(
        c, "proposal-1", job_posting_id="job-1", reason_id="146", message="Thanks"
    ),
    "freelancer_id": lambda c: operations.freelancer_id(c, "~01abc"),
    "invite_freelancer": lambda c: operations.invite_freelancer(
        c, "job-1", "1300000000000000001", "Please apply"
    ),
    "create_offer_hourly": lambda c: operations.create_offer(
        c,
        title="Data pipeline",
        description="Build it",
        vendor_user_id="user-1",
        vendor_team_id="team-1",
        contract_type="HOURLY",
        contract_start=DAY,
        hourly_rate=operations.money("50", "USD"),
        weekly_hours_limit=20,
        manual_time_allowed=True,
        client_proposal_id="proposal-1",
        job_posting_id="job-1",
        organization_id="org-1",
    ),
    "create_offer_fixed": lambda c: operations.create_offer(
        c,
        title="Logo",
        description="Draw it",
        vendor_user_id="user-1",
        vendor_team_id="team-1",
        contract_type="FIXED_PRICE",
        contract_start=DAY,
        milestones=[{"description": "Sketch", "amount": USD, "due": DAY}],
        organization_id="org-1",
    ),
    "send_offer_hourly": lambda c: operations.send_offer(
        c,
        operations.offer_input(
            title="Data pipeline",
            contract_type="HOURLY",
            client_team_id="org-1",
            vendor_user_id="user-1",
            vendor_team_id="team-1",
            client_proposal_id="proposal-1",
            hourly_rate="50",
            weekly_hours_limit=20,
            start=DAY,
        ),
    ),
    "send_offer_fixed": lambda c: operations.send_offer(
        c,
        operations.offer_input(
            title="Logo",
            contract_type="FIXED_PRICE",
            client_team_id="org-1",
            vendor_user_id="user-1",
            vendor_team_id="team-1",
            milestones=[{"description": "Sketch", "amount": "1500", "due": DAY}],
        ),
    ),
    "withdraw_offer": lambda c: operations.withdraw_offer(c, "offer-1", message="Filled"),
    "get_offer": lambda c: operations.get_offer(c, "offer-1"),
    "contract_details": lambda c: operations.contract_details(c, "contract-1", on=DAY),
    "contract_list": lambda c: operations.contract_list(c, ["contract-1", "contract-2"]),
    "end_contract": lambda c: operations.end_contract(
        c, "contract-1", reason_ref="135", feedback="Great work"
    ),
    "create_milestone": lambda c: operations.create_milestone(
        c, "contract-1", description="Sketch", amount=USD, due=DAY, instructions="PNG"
    ),
    "activate_milestone": lambda c: operations.activate_milestone(c, "m-1", message="Funded"),
    "approve_milestone": lambda c: operations.approve_milestone(
        c, "m-1", amount=USD, message="Paid", note="Thanks"
    ),
    "reject_milestone_submission": lambda c: operations.reject_milestone_submission(
        c, "submission-1", note="Please add the SVG"
    ),
    "contract_time_report_one": lambda c: operations.contract_time_report(
        c, "contract-1", DAY, DAY, organization_id="org-1"
    ),
    "contract_time_report_many": lambda c: operations.contract_time_report(
        c, ["contract-1", "contract-2"], DAY, DAY, organization_id="org-1", after="50"
    ),
    "transaction_history": lambda c: operations.transaction_history(
        c, DAY, DAY, accounting_entity_ids=["ace-1"]
    ),
    "contract_room": lambda c: operations.contract_room(c, "contract-1"),
    "room_stories": lambda c: operations.room_stories(c, "room-1", MOMENT),
    "stories_since": lambda c: list(operations.stories_since(c, MOMENT)),
    "room_list": lambda c: operations.room_list(c, MOMENT, after="50"),
    "offer_room": lambda c: operations.offer_room(c, "offer-1"),
    "send_room_message": lambda c: operations.send_room_message(c, "room-1", "Hello"),
    "update_room_story": lambda c: operations.update_room_story(c, "room-1", "story-1", "Hi"),
    "remove_room_story": lambda c: operations.remove_room_story(c, "room-1", "story-1"),
    "company_selector": lambda c: operations.company_selector(c),
    "organization": lambda c: operations.organization(c),
}


def _sent(case: str) -> tuple[str, dict, str]:
    client = Recorder()
    with contextlib.suppress(Exception):  # the empty answer may be refused; the request is sent
        CASES[case](client)
    assert len(client.sent) == 1, f"{case} sent {len(client.sent)} requests"
    return client.sent[0]


def _variable_errors(document: str, variables: dict) -> tuple[str, ...]:
    (operation,) = [d for d in parse(document).definitions if hasattr(d, "operation")]
    if validate(schema(), parse(document)):
        return ("the document is invalid",)
    definitions = operation.variable_definitions or ()
    coerced = get_variable_values(schema(), definitions, variables)
    if not isinstance(coerced, list):  # VariableValues: all coerced
        return ()
    return tuple(_message(e) for e in coerced)


@functools.cache
def invalid_now() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for key, text in _documents().items():
        if errors := _document_errors(text):
            found[key] = errors
    for case in CASES:
        document, variables, _ = _sent(case)
        if errors := _variable_errors(document, variables):
            found[f"variables:{case}"] = errors
    return found


def test_every_wrapper_is_a_case():
    """Each document the connector sends is sent by at least one case."""
    sent = {_sent(case)[2] for case in CASES}
    assert sent == set(operations.DOCUMENTS)


@pytest.mark.parametrize("key", sorted(_documents()) + [f"variables:{c}" for c in CASES])
def test_connector_request_is_valid_or_known_invalid(key):
    assert invalid_now().get(key) == KNOWN_INVALID.get(key), (
        f"{key}: what Upwork's schema says changed; update KNOWN_INVALID (issue 9 item 3)"
    )


def test_known_invalid_is_exactly_what_is_invalid():
    assert set(invalid_now()) == set(KNOWN_INVALID)


def test_the_check_catches_an_undocumented_field_and_a_wrong_input():
    bad = operations.CONTRACT_ROOM.replace("numUsers", "numberOfUsers")
    assert _document_errors(bad)
    errors = _variable_errors(operations.ACTIVATE_MILESTONE, {"input": {"milestoneId": "m-1"}})
    assert any("milestoneId" in e for e in errors), errors
