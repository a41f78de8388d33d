"""The Upwork executor's wiring around graphql-core, in process with resolvers of the test's own.

No server and no database: ``transaction.atomic`` is replaced by a recorder, so what is checked
is which blocks a request opens and which exception leaves each (Django rolls a block back
when one does). What graphql-core refuses is checked against the server in
``test_upwork_graphql``.
"""

from __future__ import annotations

import contextlib

import pytest

from gigbridge.sandbox.upwork import executor
from gigbridge.sandbox.upwork.defaults import SCOPE_COMMON, SCOPE_OFFERS
from gigbridge.sandbox.upwork.executor import Context, Resolver, UpworkError, execute

ORG = "query Organization { organization { id name type } }"


@pytest.fixture
def blocks(monkeypatch) -> list:
    """Each transaction block the executor opens: ["enter"], then the exception type leaving it."""
    seen: list = []

    @contextlib.contextmanager
    def atomic():
        seen.append("enter")
        try:
            yield
        except BaseException as exc:
            seen.append(type(exc).__name__)
            raise
        seen.append(None)

    monkeypatch.setattr(executor.transaction, "atomic", atomic)
    return seen


def context(*scopes: str) -> Context:
    return Context(user=None, organization=None, app=None, scopes=list(scopes or [SCOPE_COMMON]))


def run(query: str, resolvers: dict, variables: dict | None = None, scopes=()) -> dict:
    return execute({"query": query, "variables": variables}, context(*scopes), resolvers)


def test_fields_read_dict_keys_and_lazy_parts_only_when_selected(blocks):
    computed = []

    def organization(ctx):
        assert ctx.scopes == [SCOPE_COMMON]
        return {
            "id": "1", "name": "Acme", "type": "Client",  # an enum scalar: passed as is
            "company": lambda: computed.append("company") or {"id": "1", "name": "Acme"},
        }  # fmt: skip

    resolvers = {"organization": Resolver(organization, SCOPE_COMMON)}
    assert run(ORG, resolvers) == {
        "data": {"organization": {"id": "1", "name": "Acme", "type": "Client"}}
    }
    assert computed == []
    data = run("query { organization { company { name } } }", resolvers)["data"]
    assert data == {"organization": {"company": {"name": "Acme"}}} and computed == ["company"]


def test_arguments_arrive_coerced_by_their_names(blocks):
    given = {}

    def offer(ctx, **arguments):
        given.update(arguments)
        return {"id": arguments["id"], "title": "Logo"}

    resolvers = {"offer": Resolver(offer, SCOPE_OFFERS)}
    query = "query Offer($id: String!) { offer(id: $id) { id title } }"
    body = run(query, resolvers, {"id": "7"}, scopes=[SCOPE_OFFERS])
    assert body == {"data": {"offer": {"id": "7", "title": "Logo"}}} and given == {"id": "7"}


def test_upwork_error_is_a_null_field_with_its_code_and_rolls_its_savepoint_back(blocks):
    def withdraw(ctx, input):  # noqa: A002 - Upwork's argument name
        if input["offerId"] == "2":
            raise UpworkError("Offer '2' not found in this organization.", "NOT_FOUND")
        return "true"

    query = (
        'mutation { a: withdrawOffer(input: {offerId: "1"}) '
        'b: withdrawOffer(input: {offerId: "2"}) }'
    )
    body = run(query, {"withdrawOffer": Resolver(withdraw, SCOPE_OFFERS)}, scopes=[SCOPE_OFFERS])

    assert body["data"] == {"a": "true", "b": None}
    (error,) = body["errors"]
    assert error["path"] == ["b"] and error["extensions"] == {"code": "NOT_FOUND"}
    # The request's block, a's savepoint (kept), b's savepoint (rolled back), the request's end.
    assert blocks == ["enter", "enter", None, "enter", "UpworkError", None]


def test_missing_scope_is_forbidden_before_the_resolver_runs(blocks):
    called = []
    resolvers = {"organization": Resolver(lambda ctx: called.append(1), SCOPE_OFFERS)}
    body = run(ORG, resolvers)
    assert body["data"] == {"organization": None} and called == []
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert SCOPE_OFFERS in body["errors"][0]["message"]


def test_documented_root_field_without_a_resolver_is_not_implemented(blocks):
    body = run(ORG, {})
    assert body["data"] == {"organization": None}
    assert body["errors"][0]["extensions"] == {"code": "NOT_IMPLEMENTED"}


def test_an_unmodelled_field_is_null_even_where_upwork_declares_it_non_null(blocks):
    # CurrentOrganization.id is ID! and privateTalentClouds a non-null list in Upwork's schema:
    # the sandbox answers what it models, null for the rest, [] for a promised list; no error.
    resolvers = {"organization": Resolver(lambda ctx: {"name": "Acme"}, SCOPE_COMMON)}
    body = run("query { organization { id name type privateTalentClouds { id } } }", resolvers)
    assert body == {
        "data": {
            "organization": {"id": None, "name": "Acme", "type": None, "privateTalentClouds": []}
        }
    }


def test_a_bug_in_a_resolver_is_raised_and_rolls_the_request_back(blocks):
    def broken(ctx):
        return {"id": "1", "company": lambda: {}["missing"]}

    with pytest.raises(KeyError):
        run(
            "query { organization { company { id } } }",
            {"organization": Resolver(broken, SCOPE_COMMON)},
        )
    assert blocks[-1] == "KeyError"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "Must provide query string."),
        ({"query": ORG, "variables": []}, "Variables must be provided as an object."),
        ({"query": ORG, "operationName": 3}, "operationName must be a string."),
    ],
)
def test_request_body_of_the_wrong_shape(blocks, body, message):
    assert execute(body, context(), {}) == {"errors": [{"message": message}]}


def test_unknown_operation_name_is_refused_without_data(blocks):
    body = {"query": ORG, "operationName": "Other"}
    answer = execute(body, context(), {})
    assert "data" not in answer and "Other" in answer["errors"][0]["message"]
