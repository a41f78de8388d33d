"""The Upwork conformance checker: its reference subset is current, and it judges documents right.

Plain pytest, no database: ``pytest gigbridge/integrations/upwork -p no:django``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from gigbridge.integrations.upwork.conformance import SUBSET_PATH, load_subset, problems

REPO_ROOT = Path(__file__).resolve().parents[4]
GENERATOR = REPO_ROOT / "scripts" / "gen_upwork_subset.py"
REFERENCE = REPO_ROOT.parent / "shared" / "reference" / "upwork" / "operations.graphql"
needs_reference = pytest.mark.skipif(
    not REFERENCE.is_file(),
    reason=f"Upwork reference not found at ../shared/reference/upwork/ ({REFERENCE})",
)


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_upwork_subset", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_reference
def test_committed_subset_is_regenerated_byte_for_byte():
    generator = load_generator()
    expected = generator.render(generator.build_subset(REFERENCE))
    assert SUBSET_PATH.read_text(encoding="utf-8") == expected, (
        f"{SUBSET_PATH.relative_to(REPO_ROOT)} disagrees with the reference or the generator: "
        "run `python scripts/gen_upwork_subset.py` and commit the result"
    )


@needs_reference
def test_generator_check_flags_a_stale_file(tmp_path):
    generator = load_generator()
    stale = tmp_path / "subset.graphql"
    stale.write_text("# old\n")
    assert generator.main([str(REFERENCE), "--output", str(stale), "--check"]) == 1
    assert generator.main([str(REFERENCE), "--output", str(stale)]) == 0
    assert generator.main([str(REFERENCE), "--output", str(stale), "--check"]) == 0


def test_subset_holds_the_operations_gigbridge_uses():
    subset = load_subset()
    assert subset["ContractDetails"].root_field == "contractDetails"
    assert subset["CreateOffer"].kind == "mutation"
    assert subset["ClientProposals"].required_arguments == ["jobPostingId"]
    assert subset["WithdrawOffer"].tree is None  # a scalar answer


def test_documented_operation_with_alias_and_fragment_passes():
    document = """
    query ContractDetails($id: String!) {
      details: contractDetails(id: $id) { id title ...Terms offer { milestones { id state } } }
    }
    fragment Terms on Contract { status hourlyLimits { weeklyLimit } }
    """
    assert problems(document) == []


def test_unknown_operation_is_a_problem():
    found = problems("query Weather { weather { id } }")
    assert found == ["query Weather: not a documented query (or not in the subset)"]


def test_operation_named_for_another_root_field_is_a_problem():
    found = problems("query Offer($id: String!) { contractDetails(id: $id) { id } }")
    assert any("selects contractDetails, documented: offer" in p for p in found)


def test_unknown_argument_is_a_problem():
    found = problems('query Offer { offer(id: "1", verbose: true) { id } }')
    assert any('Unknown argument "verbose"' in p for p in found)


def test_missing_required_argument_is_a_problem():
    found = problems("query Offer { offer { id } }")
    assert any('argument "id"' in p and "required" in p for p in found)


@pytest.mark.parametrize(
    "selection",
    [
        "id salary",  # not documented at the top
        "id ...Extra",  # through a fragment
        "offer { milestones { id amount } }",  # deep, in a list
    ],
)
def test_undocumented_field_is_a_problem(selection):
    document = (
        f'query ContractDetails {{ contractDetails(id: "1") {{ {selection} }} }}'
        " fragment Extra on Contract { hourlyRate }"
    )
    found = problems(document)
    assert found and all("not in Upwork's documented field tree" in p for p in found), found


def test_leaf_with_selection_and_object_without_are_problems():
    found = problems('query ContractDetails { contractDetails(id: "1") { id { x } offer } }')
    assert len(found) == 2


def test_syntax_error_is_a_problem():
    assert problems("query {")[0].startswith("syntax:")
