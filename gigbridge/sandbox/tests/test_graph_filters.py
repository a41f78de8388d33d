"""``$filter`` is parsed as OData v4 (``graph.filters``) and mapped onto fields; the last test
asks the running sandbox."""

from __future__ import annotations

import pytest
from django.db.models import Q

from gigbridge.sandbox.graph.errors import GraphError
from gigbridge.sandbox.graph.filters import filter_to_q
from gigbridge.sandbox.graph.testing import assert_graph_error

from .files_support import unified_group


def _any_type(kind: str, value) -> Q:
    assert kind == "any"
    return Q(group_types__icontains=f'"{value}"')


FIELDS = {
    "displayName": "display_name",
    "mail": "mail",
    "accountEnabled": "account_enabled",
    "surname": "surname",
    "groupTypes": _any_type,
    "resourceProvisioningOptions": lambda kind, value: Q(team__isnull=False),
}


def q(text: str) -> Q:
    return filter_to_q(text, FIELDS, "Group")


def refused(text: str, status: int = 400) -> GraphError:
    with pytest.raises(GraphError) as caught:
        q(text)
    assert caught.value.status == status
    return caught.value


def test_and_inside_a_quoted_string_is_part_of_the_string():
    assert q("displayName eq 'Research and Development'") == Q(
        display_name__iexact="Research and Development"
    )


def test_doubled_quotes_are_one_quote():
    assert q("surname eq 'O''Brien'") == Q(surname__iexact="O'Brien")


def test_property_names_ignore_case_and_literals_keep_their_type():
    assert q("DISPLAYNAME eq 'x'") == Q(display_name__iexact="x")
    assert q("accountEnabled eq true") == Q(account_enabled=True)
    assert q("mail eq null") == Q(mail__isnull=True)


def test_and_or_not_and_parentheses_keep_precedence():
    got = q("displayName eq 'a' or mail eq 'b' and accountEnabled eq false")
    assert got == Q(display_name__iexact="a") | (Q(mail__iexact="b") & Q(account_enabled=False))
    got = q("(displayName eq 'a' or mail eq 'b') and not (surname eq 'c')")
    assert got == (Q(display_name__iexact="a") | Q(mail__iexact="b")) & ~Q(surname__iexact="c")


def test_ne_in_and_startswith():
    assert q("mail ne 'a@b.example'") == ~Q(mail__iexact="a@b.example")
    assert q("displayName in ('a', 'b')") == Q(display_name__iexact="a") | Q(
        display_name__iexact="b"
    )
    assert q("startsWith(displayName,'Res')") == Q(display_name__istartswith="Res")
    assert q("startswith(displayName, 'Res')") == Q(display_name__istartswith="Res")


def test_any_on_collections():
    assert q("groupTypes/any(c:c eq 'Unified')") == Q(group_types__icontains='"Unified"')
    assert q("resourceProvisioningOptions/Any(x:x eq 'Team')") == Q(team__isnull=False)
    got = q("groupTypes/any(c:c in ('Unified', 'DynamicMembership'))")
    assert got == Q(group_types__icontains='"Unified"') | Q(
        group_types__icontains='"DynamicMembership"'
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("displayName eq 'unterminated", "position 15"),
        ("displayName eq", "in 'displayName eq'"),
        ("displayName eq 'a' and", "position"),
        ("startswith(displayName,'a'", "ends too early"),
    ],
)
def test_malformed_expressions_are_bad_request_saying_where(text, where):
    error = refused(text)
    assert error.code == "BadRequest"
    assert error.message.startswith("Invalid filter clause: Syntax error at position ")
    assert where in error.message


def test_unsupported_properties_operators_and_functions_are_unsupported_query():
    error = refused("city eq 'Berlin'")
    assert error.code == "Request_UnsupportedQuery"
    assert "property 'city' of resource 'Group'" in error.message
    error = refused("displayName gt 'a'")
    assert error.code == "Request_UnsupportedQuery" and "operator 'gt'" in error.message
    error = refused("endswith(mail,'@example.com')")
    assert error.code == "Request_UnsupportedQuery" and "function 'endswith'" in error.message
    error = refused("groupTypes/all(c:c eq 'Unified')")
    assert error.code == "Request_UnsupportedQuery"
    error = refused("displayName/any(c:c eq 'x')")
    assert "not a collection" in error.message
    error = refused("'x' eq displayName")
    assert "left side must be a property" in error.message


# -- through the sandbox ----------------------------------------------------------------------


def test_filters_on_the_running_sandbox(graph):
    tag = unified_group(graph, "Research and Development")
    name = graph.ok("GET", f"/groups/{tag}")["displayName"]  # "Research and Development p…"
    quoted = name.replace("'", "''")
    found = graph.ok("GET", f"/groups?$filter=displayName eq '{quoted}'", type_name="group",
                     collection=True)  # fmt: skip
    assert [g["id"] for g in found["value"]] == [tag]
    both = graph.ok(
        "GET",
        "/groups?$filter=groupTypes/any(c:c eq 'Unified') and "
        "(startsWith(displayName,'Research and') or mailNickname eq 'nobody')",
        type_name="group",
        collection=True,
    )
    assert tag in [g["id"] for g in both["value"]]
    none = graph.ok("GET", "/users?$filter=surname eq 'O''Brien'", type_name="user",
                    collection=True)  # fmt: skip
    assert none["value"] == []
    error = assert_graph_error(
        graph.call("GET", "/groups?$filter=displayName eq"), 400, "BadRequest"
    )
    assert "Syntax error at position" in error["message"]
    error = assert_graph_error(
        graph.call("GET", "/groups?$filter=city eq 'x'"), 400, "Request_UnsupportedQuery"
    )
    assert "'city'" in error["message"]

    # ne / not on directory objects are advanced queries: ConsistencyLevel and $count needed.
    unequal = f"/groups?$filter=displayName ne '{quoted}'"
    error = assert_graph_error(graph.call("GET", unequal), 400, "Request_UnsupportedQuery")
    assert "Operator 'ne' is not supported" in error["message"]
    others = graph.ok("GET", unequal + "&$count=true", type_name="group", collection=True,
                      headers={"ConsistencyLevel": "eventual"})  # fmt: skip
    assert tag not in [g["id"] for g in others["value"]] and "@odata.count" in others


def test_advanced_operators_need_the_advanced_query_parameters():
    with pytest.raises(GraphError) as caught:
        filter_to_q("not (mail eq 'a')", FIELDS, "User", advanced=False)
    assert caught.value.code == "Request_UnsupportedQuery"
    assert "Operator 'not'" in caught.value.message
    assert filter_to_q("mail ne 'a'", FIELDS, "User", advanced=True) == ~Q(mail__iexact="a")
