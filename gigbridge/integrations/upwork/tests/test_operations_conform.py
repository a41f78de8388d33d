"""Every document Gigbridge sends to Upwork stays within Upwork's documented operations."""

from __future__ import annotations

import importlib.util

import pytest

from gigbridge.integrations.upwork import operations

if importlib.util.find_spec("gigbridge.integrations.upwork.conformance") is None:
    pytest.skip(
        "gigbridge.integrations.upwork.conformance does not exist yet (another engineer's part)",
        allow_module_level=True,
    )

from gigbridge.integrations.upwork import conformance  # noqa: E402


@pytest.mark.parametrize("name", sorted(operations.DOCUMENTS))
def test_document_conforms(name):
    document = operations.DOCUMENTS[name]
    assert conformance.problems(document) == []


@pytest.mark.parametrize("name", sorted(operations.DOCUMENTS))
def test_document_is_named_after_its_key(name):
    from gigbridge.integrations.upwork.client import operation_of

    assert operation_of(operations.DOCUMENTS[name])[0] == name


def test_every_document_constant_is_listed():
    """A new document that is not in DOCUMENTS would escape the conformance check."""
    listed = set(map(id, operations.DOCUMENTS.values()))
    for attribute, value in vars(operations).items():
        if (
            attribute.isupper()
            and isinstance(value, str)
            and value.lstrip().startswith(("query ", "mutation "))
        ):
            assert id(value) in listed, f"{attribute} is not in operations.DOCUMENTS"


def test_the_check_catches_an_undocumented_field():
    bad = operations.CONTRACT_ROOM.replace("numUsers", "numberOfUsers")
    assert conformance.problems(bad)
