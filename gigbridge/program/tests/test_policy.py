"""Program policy: parsing, problem reporting with positions, and approval chains.

Plain tests: no database and no Django settings are needed.
"""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from gigbridge.program.policy import (
    APPROVER_ROLES,
    DATA_CLASSIFICATIONS,
    SOURCING_KINDS,
    WORKER_CATEGORIES,
    Policy,
    PolicyError,
    PolicyProblem,
    RequestFacts,
    RequiredApproval,
    approval_chain,
    check_file,
    load_policy_file,
    parse_policy,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "program.yaml"

# A small valid policy. The comments give line numbers so the expected positions in the tests
# below can be checked by eye; edits keep the line count unless a test says otherwise.
BASE = """\
version: 1                                   # 1
program:                                     # 2
  name: Pilot                                # 3
  currency: EUR                              # 4
worker_categories: [freelancer, contingent]  # 5
task_categories: [design, content]           # 6
cost_centers:                                # 7
  - code: CC-MKT                             # 8
    name: Marketing                          # 9
    annual_budget: 1000                      # 10
    owner: carol.owner@contoso.example       # 11
  - code: CC-ENG                             # 12
    name: Engineering                        # 13
    annual_budget: 2000                      # 14
    owner: dan.owner@contoso.example         # 15
approvals:                                   # 16
  rules:                                     # 17
    - id: manager                            # 18
      approvers: [manager]                   # 19
    - id: legal                              # 20
      when:                                  # 21
        data_classification: [confidential]  # 22
      approvers: [legal]                     # 23
compliance:                                  # 24
  max_engagement_days: 180                   # 25
  rehire_cooling_off_days: 90                # 26
  required_agreements: [NDA]                 # 27
  blocked_countries: [KP]                    # 28
access: {}                                   # 29
"""


def edited(old: str, new: str) -> str:
    assert BASE.count(old) == 1, f"{old!r} must occur exactly once in BASE"
    return BASE.replace(old, new)


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    return [str(problem) for problem in caught.value.problems]


# --- valid policies ---------------------------------------------------------------------------


def test_example_file_is_valid():
    assert check_file(EXAMPLE) == []
    policy = load_policy_file(EXAMPLE)
    assert policy.program.name == "Contoso Freelance Pilot"
    assert policy.program.currency == "EUR"
    assert [center.code for center in policy.cost_centers] == [
        "CC-MKT",
        "CC-ENG",
        "CC-DATA",
        "CC-LOC",
        "CC-OPS",
    ]
    assert policy.cost_center("CC-MKT").owner == "carol.owner@contoso.example"
    assert {center.owner for center in policy.cost_centers[1:]} == {"dan.owner@contoso.example"}
    assert [rule.id for rule in policy.approvals.rules] == [
        "manager",
        "procurement-over-5k",
        "legal-confidential",
        "hr-contingent",
        "finance-over-25k",
    ]
    assert policy.compliance.blocked_countries == ("CU", "IR", "KP", "SY", "RU", "BY")
    assert policy.access.file_share_role == "write"


def test_base_parses_with_defaults():
    policy = parse_policy(BASE)
    assert policy.program.fiscal_year_start_month == 1
    assert policy.approvals.reminder_after_days == 2
    assert policy.approvals.escalate_after_days == 5
    assert policy.approvals.link_valid_days == 7
    assert policy.access.grace_days == 3
    assert policy.access.file_share_role == "read"
    assert policy.access.remove_guest_on_end is True
    assert policy.access.remove_drift is False
    assert policy.approvals.rules[0].mode == "parallel"
    assert policy.approvals.rules[0].when is None


def test_amounts_are_decimals_whatever_yaml_spelling():
    policy = parse_policy(
        edited("annual_budget: 1000 ", "annual_budget: 0.1  ").replace(
            "annual_budget: 2000 ", "annual_budget: '2000.50'"
        )
    )
    assert policy.cost_centers[0].annual_budget == Decimal("0.1")
    assert policy.cost_centers[1].annual_budget == Decimal("2000.50")
    assert isinstance(policy.cost_centers[1].annual_budget, Decimal)


def test_cost_center_lookup():
    policy = parse_policy(BASE)
    assert policy.cost_center("CC-ENG").name == "Engineering"
    assert policy.cost_center("CC-NOPE") is None


def test_policy_is_immutable():
    policy = parse_policy(BASE)
    with pytest.raises(ValidationError):
        policy.program.name = "Other"  # type: ignore[misc]


def test_anchors_aliases_and_merge_keys_are_understood():
    text = edited(
        "  - code: CC-ENG                             # 12\n"
        "    name: Engineering                        # 13\n"
        "    annual_budget: 2000                      # 14\n"
        "    owner: dan.owner@contoso.example         # 15\n",
        "  - &eng\n"
        "    code: CC-ENG\n"
        "    name: Engineering\n"
        "    annual_budget: 2000\n"
        "    owner: dan.owner@contoso.example\n"
        "  - <<: *eng\n"
        "    code: CC-DATA\n",
    )
    policy = parse_policy(text)
    assert policy.cost_center("CC-DATA").owner == "dan.owner@contoso.example"
    assert policy.cost_center("CC-ENG").name == "Engineering"


def test_vocabularies_are_exported():
    assert APPROVER_ROLES == (
        "manager",
        "cost_center_owner",
        "procurement",
        "legal",
        "hr",
        "finance",
    )
    assert DATA_CLASSIFICATIONS == ("public", "internal", "confidential")
    assert WORKER_CATEGORIES == ("employee", "vendor", "contingent", "freelancer")
    assert SOURCING_KINDS == ("marketplace", "direct")


# --- problem format ---------------------------------------------------------------------------


def test_problem_and_error_strings():
    first = PolicyProblem("p.yaml", 3, 7, "program.name", "must not be empty")
    second = PolicyProblem("p.yaml", 1, 1, "(document)", "the file is empty")
    assert str(first) == "p.yaml:3:7: program.name: must not be empty"
    error = PolicyError([first, second])
    assert error.problems == [first, second]
    assert (
        str(error)
        == "p.yaml:3:7: program.name: must not be empty\np.yaml:1:1: (document): the file is empty"
    )


def test_default_filename():
    with pytest.raises(PolicyError) as caught:
        parse_policy("")
    assert str(caught.value) == (
        "program.yaml:1:1: (document): the file is empty; it must contain a program policy"
    )


# --- YAML-level problems ----------------------------------------------------------------------


def test_syntax_error_at_the_parser_position():
    assert problems(edited("  name: Pilot  ", "  name: a: b   ")) == [
        "p.yaml:3:10: (document): invalid YAML: mapping values are not allowed here"
    ]


def test_syntax_error_names_the_unclosed_construct():
    text = edited("[freelancer, contingent]  # 5", "[freelancer, contingent   # 5")
    assert problems(text) == [
        "p.yaml:6:1: (document): invalid YAML: expected ',' or ']', but got '<scalar>'"
        " (while parsing a flow sequence at line 5, column 20)"
    ]


def test_tabs_get_a_hint():
    assert problems("version: 1\nprogram:\n\tname: x\n") == [
        "p.yaml:3:1: (document): invalid YAML: found character '\\t' that cannot start any token;"
        " indent with spaces, not tabs"
    ]


def test_second_document_is_rejected():
    assert problems(BASE + "---\nversion: 1\n") == [
        "p.yaml:30:1: (document): invalid YAML: the file must hold one YAML document,"
        " but another one starts here (---)"
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(text):
    assert problems(text) == [
        "p.yaml:1:1: (document): the file is empty; it must contain a program policy"
    ]


def test_document_must_be_a_mapping():
    assert problems("\n- version: 1\n") == [
        "p.yaml:2:1: (document): the policy must be a mapping of sections"
        " such as version and program (got a list)"
    ]


def test_duplicate_key():
    text = edited("access: {}     ", "access: {grace_days: 1, grace_days: 2}")
    assert problems(text) == [
        "p.yaml:29:25: access.grace_days: duplicate key 'grace_days' (first defined at line 29)"
    ]


def test_duplicate_top_level_section():
    assert problems(BASE + "version: 1\n") == [
        "p.yaml:30:1: version: duplicate key 'version' (first defined at line 1)"
    ]


def test_unsupported_tag():
    assert problems(edited("annual_budget: 1000 ", "annual_budget: !!int lots")) == [
        "p.yaml:10:20: cost_centers.0.annual_budget: cannot read 'lots' as tag:yaml.org,2002:int"
    ]


# --- schema problems --------------------------------------------------------------------------


def test_unknown_key_is_reported_at_the_key():
    assert problems(edited("      approvers: [manager]", "      approver: [manager] ")) == [
        "p.yaml:18:7: approvals.rules.0.approvers: required field is missing",
        "p.yaml:19:7: approvals.rules.0.approver: unknown field 'approver'"
        " (allowed: id, description, when, approvers, mode)",
    ]


def test_non_text_key_is_an_unknown_field():
    assert problems(edited("access: {}", "access: {1: 2}")) == [
        "p.yaml:29:10: access.1: unknown field 1"
        " (allowed: grace_days, file_share_role, remove_guest_on_end, remove_drift,"
        " private_channel, workspace_kinds, share_folder_across_engagements)"
    ]


def test_missing_key_is_reported_at_the_parent_mapping():
    text = edited("    name: Marketing                          # 9\n", "")
    assert problems(text) == ["p.yaml:8:5: cost_centers.0.name: required field is missing"]


def test_missing_section_is_reported_at_the_document():
    assert problems(edited("access: {}                                   # 29\n", "")) == [
        "p.yaml:1:1: access: required field is missing"
    ]


def test_wrong_type():
    text = edited("max_engagement_days: 180  ", "max_engagement_days: half a year")
    assert problems(text) == [
        "p.yaml:25:24: compliance.max_engagement_days: must be a whole number (got 'half a year')"
    ]


def test_wrong_container_type():
    assert problems(
        edited("task_categories: [design, content]", "task_categories: design           ")
    ) == ["p.yaml:6:18: task_categories: must be a list (got 'design')"]


def test_booleans_are_not_days():
    assert problems(edited("rehire_cooling_off_days: 90", "rehire_cooling_off_days: no")) == [
        "p.yaml:26:28: compliance.rehire_cooling_off_days: must be a whole number (got false)"
    ]


def test_negative_budget():
    assert problems(edited("annual_budget: 1000 ", "annual_budget: -5  ")) == [
        "p.yaml:10:20: cost_centers.0.annual_budget: must not be negative (got -5)"
    ]


def test_budget_must_be_a_number():
    assert problems(edited("annual_budget: 1000 ", "annual_budget: lots")) == [
        "p.yaml:10:20: cost_centers.0.annual_budget: must be a number (got 'lots')"
    ]


def test_bad_currency():
    assert problems(edited("currency: EUR ", "currency: euro")) == [
        "p.yaml:4:13: program.currency: must be a three-letter ISO 4217 currency code"
        " in capitals, such as EUR (got 'euro')"
    ]


def test_bad_country_codes_including_the_norway_problem():
    assert problems(edited("blocked_countries: [KP]    ", "blocked_countries: [kp, NO]")) == [
        "p.yaml:28:23: compliance.blocked_countries.0: must be a two-letter ISO 3166-1 country"
        " code in capitals, such as KP (got 'kp')",
        "p.yaml:28:27: compliance.blocked_countries.1: must be text (got false);"
        " write it in quotes: 'NO'",
    ]


def test_unknown_approver_role():
    assert problems(edited("approvers: [manager]", "approvers: [boss]   ")) == [
        "p.yaml:19:19: approvals.rules.0.approvers.0: must be one of manager, cost_center_owner,"
        " procurement, legal, hr, finance (got 'boss')"
    ]


def test_bad_email_slug_and_code():
    text = (
        edited("owner: carol.owner@contoso.example", "owner: carol                      ")
        .replace("- id: manager ", "- id: Manager ")
        .replace("code: CC-ENG", "code: cc-eng")
    )
    assert problems(text) == [
        "p.yaml:11:12: cost_centers.0.owner: must be an email address,"
        " such as name@example.com (got 'carol')",
        "p.yaml:12:11: cost_centers.1.code: must be 2 to 32 capital letters, digits or hyphens,"
        " such as CC-MKT (got 'cc-eng')",
        "p.yaml:18:11: approvals.rules.0.id: must be lowercase letters, digits and hyphens,"
        " such as software-development (got 'Manager')",
    ]


def test_unsupported_version():
    assert problems(edited("version: 1 ", "version: 2 ")) == [
        "p.yaml:1:10: version: must be 1, the only policy format version so far (got 2)"
    ]


def test_out_of_range_numbers():
    text = edited("access: {}   ", "access: {grace_days: 91}")
    assert problems(text) == ["p.yaml:29:22: access.grace_days: must be at most 90 (got 91)"]


def test_empty_name_and_empty_lists():
    text = (
        edited("  name: Pilot ", "  name: ''    ")
        .replace("worker_categories: [freelancer, contingent]", "worker_categories: []")
        .replace("data_classification: [confidential]", "data_classification: []")
    )
    assert problems(text) == [
        "p.yaml:3:9: program.name: must not be empty",
        "p.yaml:5:20: worker_categories: must list at least one value",
        "p.yaml:22:30: approvals.rules.1.when.data_classification: must list at least one value"
        " (leave the condition out to match any value)",
    ]


def test_empty_value_and_number_where_text_is_expected():
    text = edited("  name: Pilot ", "  name:       ").replace("name: Marketing", "name: 2024     ")
    assert problems(text) == [
        "p.yaml:3:8: program.name: must not be empty",
        "p.yaml:9:11: cost_centers.0.name: must be text (got 2024); write it in quotes: '2024'",
    ]


def test_broken_aliases_and_merge_keys():
    assert problems(edited("access: {}        ", "access: &a {x: *a}")) == [
        "p.yaml:29:9: access.x: an alias may not refer to its own container"
    ]
    assert problems(edited("access: {}     ", "access: {<<: 5}")) == [
        "p.yaml:29:14: access: a merge key (<<) must refer to a mapping or a list of mappings"
    ]


def test_alias_bombs_are_stopped():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    assert problems("\n".join(lines) + "\n") == [
        "p.yaml:1:1: (document): the document expands to more than 20000 values through aliases"
    ]


def test_wrong_type_for_a_section():
    assert problems(edited("access: {}", "access: []")) == [
        "p.yaml:29:9: access: must be a mapping of fields (got a list)"
    ]


# --- cross-field rules ------------------------------------------------------------------------


def test_duplicate_cost_center_code():
    assert problems(edited("code: CC-ENG", "code: CC-MKT")) == [
        "p.yaml:12:11: cost_centers.1.code: duplicate cost center code 'CC-MKT'"
        " (first defined at line 8)"
    ]


def test_duplicate_rule_id():
    assert problems(edited("- id: legal  ", "- id: manager")) == [
        "p.yaml:20:11: approvals.rules.1.id: duplicate rule id 'manager' (first defined at line 18)"
    ]


def test_duplicate_list_entry():
    assert problems(
        edited("required_agreements: [NDA]     ", "required_agreements: [NDA, NDA]")
    ) == [
        "p.yaml:27:30: compliance.required_agreements.1: 'NDA' is listed twice (first at line 27)"
    ]


def test_escalation_must_come_after_the_reminder():
    text = edited("compliance:", "  reminder_after_days: 3\n  escalate_after_days: 3\ncompliance:")
    assert problems(text) == [
        "p.yaml:25:24: approvals.escalate_after_days: must be greater than reminder_after_days,"
        " which is 3 (got 3)"
    ]


def test_reminder_must_come_before_the_default_escalation():
    text = edited("compliance:", "  reminder_after_days: 6\ncompliance:")
    assert problems(text) == [
        "p.yaml:24:24: approvals.reminder_after_days: must be less than escalate_after_days,"
        " which defaults to 5 (got 6)"
    ]


def test_rule_may_only_name_declared_categories():
    text = edited(
        "        data_classification: [confidential]  # 22\n",
        "        worker_category: [vendor, employee]\n        task_category: [design, video]\n",
    )
    assert problems(text) == [
        "p.yaml:22:27: approvals.rules.1.when.worker_category.0: 'vendor' is not one of this"
        " program's worker_categories (freelancer, contingent)",
        "p.yaml:22:35: approvals.rules.1.when.worker_category.1: 'employee' is not one of this"
        " program's worker_categories (freelancer, contingent)",
        "p.yaml:23:33: approvals.rules.1.when.task_category.1: 'video' is not one of this"
        " program's task_categories (design, content)",
    ]


def test_invalid_category_in_a_rule_is_reported_once():
    text = edited("data_classification: [confidential]", "worker_category: [robot]           ")
    assert problems(text) == [
        "p.yaml:22:27: approvals.rules.1.when.worker_category.0: must be one of employee,"
        " vendor, contingent, freelancer (got 'robot')"
    ]


def test_every_problem_is_reported_in_file_order():
    text = (
        edited("currency: EUR ", "currency: euro")
        .replace("code: CC-ENG", "code: CC-MKT")
        .replace("annual_budget: 2000", "annual_budget: -1  ")
        .replace("approvers: [legal]", "approvers: [boss] ")
        .replace("- id: legal  ", "- id: manager")
        .replace("blocked_countries: [KP]", "blocked_countries: [XYZ]")
        .replace("access: {}", "access: {colour: red}")
    )
    assert problems(text) == [
        "p.yaml:4:13: program.currency: must be a three-letter ISO 4217 currency code"
        " in capitals, such as EUR (got 'euro')",
        "p.yaml:12:11: cost_centers.1.code: duplicate cost center code 'CC-MKT'"
        " (first defined at line 8)",
        "p.yaml:14:20: cost_centers.1.annual_budget: must not be negative (got -1)",
        "p.yaml:20:11: approvals.rules.1.id: duplicate rule id 'manager'"
        " (first defined at line 18)",
        "p.yaml:23:19: approvals.rules.1.approvers.0: must be one of manager, cost_center_owner,"
        " procurement, legal, hr, finance (got 'boss')",
        "p.yaml:28:23: compliance.blocked_countries.0: must be a two-letter ISO 3166-1 country"
        " code in capitals, such as KP (got 'XYZ')",
        "p.yaml:29:10: access.colour: unknown field 'colour'"
        " (allowed: grace_days, file_share_role, remove_guest_on_end, remove_drift,"
        " private_channel, workspace_kinds, share_folder_across_engagements)",
    ]


def test_policies_built_in_code_get_the_cross_field_rules_too():
    data = parse_policy(BASE).model_dump()
    data["cost_centers"] = [data["cost_centers"][0], data["cost_centers"][0]]
    with pytest.raises(ValidationError, match="duplicate cost center code 'CC-MKT'"):
        Policy.model_validate(data)


# --- files ------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    assert [str(problem) for problem in check_file(path)] == [
        f"{path}:1:1: (document): cannot read the file: No such file or directory"
    ]


def test_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(BASE.replace("Marketing", "Marketing Caf\xe9").encode("latin-1"))
    assert [str(problem) for problem in check_file(path)] == [
        f"{path}:9:24: (document): the file is not UTF-8 text (byte 0xE9 here); save it as UTF-8"
    ]


def test_file_problems_name_the_file(tmp_path):
    path = tmp_path / "program.yaml"
    path.write_text(edited("currency: EUR ", "currency: eur "), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy_file(path)
    assert [problem.file for problem in caught.value.problems] == [str(path)]
    assert (caught.value.problems[0].line, caught.value.problems[0].column) == (4, 13)


# --- approval chains --------------------------------------------------------------------------


def facts(amount="100", classification="internal", worker="freelancer", task="design", **kw):
    return RequestFacts(
        amount=Decimal(amount),
        data_classification=classification,
        worker_category=worker,
        sourcing=kw.get("sourcing", "marketplace"),
        task_category=task,
    )


def roles(chain):
    return [[(approval.role, approval.rule_id) for approval in stage] for stage in chain]


@pytest.fixture(scope="module")
def example():
    return load_policy_file(EXAMPLE)


def test_small_request_needs_only_the_manager(example):
    assert approval_chain(example, facts("4999.99")) == [[RequiredApproval("manager", "manager")]]


def test_threshold_is_inclusive(example):
    assert roles(example.approval_chain(facts("5000"))) == [
        [("manager", "manager")],
        [("procurement", "procurement-over-5k")],
    ]


def test_large_confidential_contingent_request_needs_everyone_in_order(example):
    chain = example.approval_chain(facts("30000", "confidential", "contingent"))
    assert roles(chain) == [
        [("manager", "manager")],
        [("procurement", "procurement-over-5k")],
        [("legal", "legal-confidential")],
        [("hr", "hr-contingent")],
        [("finance", "finance-over-25k")],
        [("cost_center_owner", "finance-over-25k")],
    ]


def with_rules(rules_yaml: str) -> str:
    """BASE with its approval rules (lines 17 to 23) replaced."""
    base_rules = BASE[BASE.index("  rules:") : BASE.index("compliance:")]
    return BASE.replace(base_rules, rules_yaml)


def chain_for(rules_yaml: str, request: RequestFacts):
    return roles(parse_policy(with_rules("  rules:\n" + rules_yaml)).approval_chain(request))


def test_parallel_rule_is_one_stage_and_first_rule_wins_a_role():
    rules = """\
    - id: first
      approvers: [manager, legal]
    - id: second
      approvers: [legal, finance, manager]
      mode: sequential
"""
    assert chain_for(rules, facts()) == [
        [("manager", "first"), ("legal", "first")],
        [("finance", "second")],
    ]


def test_stage_left_empty_is_dropped():
    rules = """\
    - id: first
      approvers: [manager, hr]
    - id: again
      approvers: [hr, manager]
"""
    assert chain_for(rules, facts()) == [[("manager", "first"), ("hr", "first")]]


def test_all_conditions_of_a_rule_must_hold():
    rules = """\
    - id: direct-design
      when:
        sourcing: [direct]
        task_category: [design]
        worker_category: [freelancer]
        data_classification: [internal, confidential]
      approvers: [procurement]
"""
    assert chain_for(rules, facts(sourcing="direct")) == [[("procurement", "direct-design")]]
    assert chain_for(rules, facts(sourcing="marketplace")) == []
    assert chain_for(rules, facts(sourcing="direct", task="content")) == []
    assert chain_for(rules, facts(sourcing="direct", classification="public")) == []


def test_empty_condition_always_matches():
    rules = """\
    - id: null-when
      when:
      approvers: [manager]
    - id: empty-when
      when: {}
      approvers: [hr]
"""
    assert chain_for(rules, facts()) == [[("manager", "null-when")], [("hr", "empty-when")]]


def test_no_rules_means_no_approvals():
    policy = parse_policy(with_rules("  rules: []\n"))
    assert policy.approval_chain(facts("1000000")) == []


# --- the management command -------------------------------------------------------------------


def run_command(*args):
    pytest.importorskip("django")
    from django.core.management import call_command

    from gigbridge.program.management.commands.policy import Command

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(Command(), *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_command_accepts_the_example():
    assert run_command("check", str(EXAMPLE)) == (
        0,
        f"OK: {EXAMPLE} is a valid policy (5 cost centers, 5 approval rules)\n",
        "",
    )


def test_command_lists_problems_and_fails(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        edited("code: CC-ENG", "code: CC-MKT").replace("currency: EUR", "currency: €€€"),
        encoding="utf-8",
    )
    assert run_command("check", str(path)) == (
        1,
        "",
        f"{path}:4:13: program.currency: must be a three-letter ISO 4217 currency code"
        " in capitals, such as EUR (got '€€€')\n"
        f"{path}:12:11: cost_centers.1.code: duplicate cost center code 'CC-MKT'"
        " (first defined at line 8)\n"
        f"2 problem(s) found in {path}\n",
    )


def test_marketplace_amounts_convert_at_the_policy_rate_and_unknown_currencies_are_named():
    from decimal import Decimal

    from gigbridge.program.policy import UnknownCurrency

    policy = load_policy_file(EXAMPLE)
    assert policy.to_program_currency(Decimal("100"), "USD") == Decimal("92.00")
    assert policy.to_program_currency(Decimal("100"), "EUR") == Decimal("100.00")
    assert policy.from_program_currency(Decimal("4000"), "USD") == Decimal("4347.82")  # down
    with pytest.raises(UnknownCurrency, match=r"program\.exchange_rates\.GBP"):
        policy.to_program_currency(Decimal("1"), "GBP")


def test_an_exchange_rate_must_be_positive_and_its_place_is_named():
    line = "  currency: EUR                              # 4"
    assert problems(edited(line, "  currency: EUR\n  exchange_rates: {USD: 0}")) == [
        "p.yaml:5:25: program.exchange_rates.USD: must be at least 0.01 (got 0)"
    ]
