"""Malformed and oversized policies are refused with the place named, never with a traceback.

Issue 7's audit found policies that passed `gigbridge policy check` and then broke the product
(an annual budget of 10^24, cooling-off days of 10^10) and a policy nested 500 levels deep that
ended the check in RecursionError. Each kind of malformed policy below goes through the three
ways a policy file is read: the library check, the `policy check` command and activation.
"""

import subprocess
import sys

import pytest

from gigbridge.program.policy import (
    MAX_FILE_BYTES,
    MAX_PROBLEMS,
    MAX_VALUES,
    PolicyError,
    check_file,
    parse_policy,
)
from gigbridge.program.tests.test_policy import BASE, edited, run_command

CURRENCY_LINE = "  currency: EUR                              # 4"
RULES_LINE = "  rules:                                     # 17"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def cost_center_lines(count: int) -> str:
    return "".join(
        f"  - {{code: CC-{n}, name: N, annual_budget: 1, owner: a@b.example}}\n"
        for n in range(count)
    )


ALIAS_BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 9)
)
NESTED_TOO_DEEP = "values are nested more than 32 levels deep (a policy needs about six)"
TOO_LARGE = "the file is larger than 512 KiB (524288 bytes); a policy is a few kilobytes"

# (id, file content, the problems as LINE:COLUMN: path: message). Each must name its place.
CASES = [
    (
        "budget-10^24",
        edited("annual_budget: 1000 ", "annual_budget: 1000000000000000000000000"),
        [
            "10:20: cost_centers.0.annual_budget: must be at most 1000000000.00"
            " (got 1000000000000000000000000)"
        ],
    ),
    (
        "budget-float-1e24",
        edited("annual_budget: 1000 ", "annual_budget: 1.0e+24"),
        ["10:20: cost_centers.0.annual_budget: must be at most 1000000000.00 (got 1e+24)"],
    ),
    (
        "budget-fraction-of-a-cent",
        edited("annual_budget: 1000 ", "annual_budget: 1000.005"),
        ["10:20: cost_centers.0.annual_budget: must have at most 2 decimal places (got 1000.005)"],
    ),
    (
        "budget-negative",
        edited("annual_budget: 1000 ", "annual_budget: -1"),
        ["10:20: cost_centers.0.annual_budget: must not be negative (got -1)"],
    ),
    (
        "budget-nan",
        edited("annual_budget: 1000 ", "annual_budget: .nan"),
        ["10:20: cost_centers.0.annual_budget: must be a finite number (got nan)"],
    ),
    (
        "budget-infinite",
        edited("annual_budget: 1000 ", "annual_budget: .inf"),
        ["10:20: cost_centers.0.annual_budget: must be a finite number (got inf)"],
    ),
    (
        "budget-20000-hex-digits",
        edited("annual_budget: 1000 ", "annual_budget: 0x" + "f" * 20000),
        [
            "10:20: cost_centers.0.annual_budget: must be at most 1000000000.00"
            " (got a number too long to show)"
        ],
    ),
    (
        "budget-5000-digits",
        edited("annual_budget: 1000 ", "annual_budget: " + "9" * 5000),
        [
            "10:20: cost_centers.0.annual_budget: cannot read '"
            + "9" * 58
            + "… as tag:yaml.org,2002:int"
        ],
    ),
    (
        "threshold-10^13",
        edited(
            "        data_classification: [confidential]  # 22",
            "        amount_at_least: 10000000000000",
        ),
        [
            "22:26: approvals.rules.1.when.amount_at_least: must be at most 1000000000.00"
            " (got 10000000000000)"
        ],
    ),
    (
        "cooling-off-10^10",
        edited("rehire_cooling_off_days: 90 ", "rehire_cooling_off_days: 10000000000"),
        ["26:28: compliance.rehire_cooling_off_days: must be at most 3650 (got 10000000000)"],
    ),
    (
        "cooling-off-negative",
        edited("rehire_cooling_off_days: 90 ", "rehire_cooling_off_days: -1"),
        ["26:28: compliance.rehire_cooling_off_days: must not be negative (got -1)"],
    ),
    (
        "cooling-off-yes",
        edited("rehire_cooling_off_days: 90 ", "rehire_cooling_off_days: yes"),
        ["26:28: compliance.rehire_cooling_off_days: must be a whole number (got true)"],
    ),
    (
        "cooling-off-fraction",
        edited("rehire_cooling_off_days: 90 ", "rehire_cooling_off_days: 2.5"),
        ["26:28: compliance.rehire_cooling_off_days: must be a whole number (got 2.5)"],
    ),
    (
        "reminder-10^10",
        edited(RULES_LINE, "  reminder_after_days: 10000000000\n  rules:"),
        ["17:24: approvals.reminder_after_days: must be at most 365 (got 10000000000)"],
    ),
    (
        "escalation-10^10",
        edited(RULES_LINE, "  escalate_after_days: 10000000000\n  rules:"),
        ["17:24: approvals.escalate_after_days: must be at most 365 (got 10000000000)"],
    ),
    (
        "link-days-31",
        edited(RULES_LINE, "  link_valid_days: 31\n  rules:"),
        ["17:20: approvals.link_valid_days: must be at most 30 (got 31)"],
    ),
    (
        "engagement-days-10^6",
        edited("max_engagement_days: 180 ", "max_engagement_days: 1000000"),
        ["25:24: compliance.max_engagement_days: must be at most 3650 (got 1000000)"],
    ),
    (
        "grace-days-10^10",
        edited("access: {}  ", "access: {grace_days: 10000000000}"),
        ["29:22: access.grace_days: must be at most 90 (got 10000000000)"],
    ),
    (
        "fiscal-month-13",
        edited(CURRENCY_LINE, "  currency: EUR\n  fiscal_year_start_month: 13"),
        ["5:28: program.fiscal_year_start_month: must be at most 12 (got 13)"],
    ),
    (
        "exchange-rate-1e300",
        edited(CURRENCY_LINE, "  currency: EUR\n  exchange_rates: {USD: 1.0e+300}"),
        ["5:25: program.exchange_rates.USD: must be at most 100000 (got 1e+300)"],
    ),
    (
        "exchange-rate-seven-decimals",
        edited(CURRENCY_LINE, "  currency: EUR\n  exchange_rates: {USD: 0.9200001}"),
        ["5:25: program.exchange_rates.USD: must have at most 6 decimal places (got 0.9200001)"],
    ),
    (
        "name-201-characters",
        edited("  name: Pilot ", "  name: " + "P" * 201),
        ["3:9: program.name: must be at most 200 characters (got 201)"],
    ),
    (
        "agreement-51-characters",
        edited("required_agreements: [NDA]", "required_agreements: [" + "A" * 51 + "]"),
        ["27:25: compliance.required_agreements.0: must be at most 50 characters (got 51)"],
    ),
    (
        "1002-cost-centers",
        BASE.replace("approvals:  ", cost_center_lines(1000) + "approvals:  ", 1),
        ["8:3: cost_centers: must list at most 1000 values (got 1002)"],
    ),
    (
        "list-of-10^6-items",
        edited("blocked_countries: [KP]", "blocked_countries: [" + ", ".join(["KP"] * 10**6) + "]"),
        [f"1:1: (document): {TOO_LARGE}"],
    ),
    (
        "more-values-than-the-cap",
        edited(
            "blocked_countries: [KP]",
            "blocked_countries:\n" + "".join("  - KP\n" for _ in range(MAX_VALUES)),
        ),
        [  # the item that is the document's 20,001st value (keys count too)
            "19960:5: (document): the document has more than 20000 values;"
            " a policy has a few hundred"
        ],
    ),
    (
        "nested-500-flow",
        edited("access: {}  ", "access: " + nested(500)),
        [f"29:40: (document): {NESTED_TOO_DEEP}"],
    ),
    (
        "nested-500-block",
        edited(
            "access: {}  ",
            "access:\n" + "".join(" " * (2 * n) + f"k{n}:\n" for n in range(1, 501)),
        ),
        [f"60:63: (document): {NESTED_TOO_DEEP}"],
    ),
    ("nested-5000-root", nested(5000), [f"1:33: (document): {NESTED_TOO_DEEP}"]),
    (
        "nested-through-40-aliases",
        BASE + "x0: &x0 [x]\n" + "".join(f"x{n}: &x{n} [*x{n - 1}]\n" for n in range(1, 40)),
        [f"30:10: (document): {NESTED_TOO_DEEP}"],
    ),
    (
        "nested-through-40-merge-keys",
        BASE
        + "m0: &m0 {a: 1}\n"
        + "".join(f"m{n}: &m{n} {{<<: *m{n - 1}}}\n" for n in range(1, 40)),
        [f"30:13: (document): {NESTED_TOO_DEEP}"],
    ),
    (
        "billion-laughs",
        ALIAS_BOMB,
        [f"1:1: (document): the document expands to more than {MAX_VALUES} values through aliases"],
    ),
    (
        "alias-to-its-own-container",
        edited("access: {}        ", "access: &a {x: *a}"),
        ["29:9: access.x: an alias may not refer to its own container"],
    ),
    ("larger-than-512-KiB", BASE + "#" * MAX_FILE_BYTES + "\n", [f"1:1: (document): {TOO_LARGE}"]),
    (
        "duplicate-key",
        edited(CURRENCY_LINE, "  currency: EUR\n  currency: USD"),
        ["5:3: program.currency: duplicate key 'currency' (first defined at line 4)"],
    ),
    (
        "scalar-root",
        "42\n",
        [
            "1:1: (document): the policy must be a mapping of sections such as version and"
            " program (got 42)"
        ],
    ),
    (
        "list-root",
        "- version: 1\n",
        [
            "1:1: (document): the policy must be a mapping of sections such as version and"
            " program (got a list)"
        ],
    ),
    ("empty", "", ["1:1: (document): the file is empty; it must contain a program policy"]),
    (
        "two-documents",
        BASE + "---\nversion: 1\n",
        [
            "30:1: (document): invalid YAML: the file must hold one YAML document, but another"
            " one starts here (---)"
        ],
    ),
    (
        "not-utf8",
        edited("  name: Pilot ", "  name: Pil\xf6t").encode("latin-1"),
        ["3:12: (document): the file is not UTF-8 text (byte 0xF6 here); save it as UTF-8"],
    ),
    (
        "nul-character",
        edited("  name: Pilot ", "  name: Pi\x00ot"),
        ["3:11: (document): invalid YAML: special characters are not allowed (character U+0000)"],
    ),
    (
        "python-tag",
        edited("  name: Pilot ", "  name: !!python/object/apply:os.system [ls]"),
        ["3:9: program.name: unsupported YAML tag tag:yaml.org,2002:python/object/apply:os.system"],
    ),
    (
        "include-tag",
        edited("  name: Pilot ", "  name: !include other.yaml"),
        ["3:9: program.name: cannot read 'other.yaml' as !include"],
    ),
    (
        "unknown-key-of-100000-characters",
        edited("access: {}  ", "access:\n  ? " + "k" * 100_000 + "\n  : 1"),
        [
            f"30:5: access.{'k' * 59}…: unknown field '{'k' * 58}… (allowed: grace_days,"
            " file_share_role, remove_guest_on_end, remove_drift, private_channel,"
            " workspace_kinds, share_folder_across_engagements)"
        ],
    ),
    (
        "tab-indentation",
        edited("  name: Pilot ", "\tname: Pilot"),
        [
            "3:1: (document): invalid YAML: found character '\\t' that cannot start any token;"
            " indent with spaces, not tabs"
        ],
    ),
    (
        "unclosed-bracket",
        edited("worker_categories: [freelancer, contingent]", "worker_categories: [freelancer"),
        [
            "6:1: (document): invalid YAML: expected ',' or ']', but got '<scalar>'"
            " (while parsing a flow sequence at line 5, column 20)"
        ],
    ),
]
PARAMS = [pytest.param(content, expected, id=name) for name, content, expected in CASES]


def write(tmp_path, content: str | bytes):
    path = tmp_path / "program.yaml"
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def test_the_audit_tried_at_least_24_kinds():
    assert len(CASES) >= 24
    assert len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("content", "expected"), PARAMS)
def test_a_malformed_policy_is_refused_naming_the_place(tmp_path, content, expected):
    path = write(tmp_path, content)
    assert [str(problem) for problem in check_file(path)] == [f"{path}:{e}" for e in expected]


@pytest.mark.parametrize(("content", "expected"), PARAMS)
def test_policy_check_prints_the_places_and_exits_1(tmp_path, content, expected):
    path = write(tmp_path, content)
    summary = f"{len(expected)} problem(s) found in {path}"
    lines = [f"{path}:{e}" for e in expected] + [summary]
    assert run_command("check", str(path)) == (1, "", "".join(f"{line}\n" for line in lines))


@pytest.mark.django_db
@pytest.mark.parametrize(("content", "expected"), PARAMS)
def test_activating_a_malformed_policy_stores_nothing(tmp_path, content, expected):
    from gigbridge.program.actions import activate_policy_file
    from gigbridge.program.models import CostCenter, PolicyVersion

    path = write(tmp_path, content)
    with pytest.raises(PolicyError) as refused:
        activate_policy_file(path)
    assert [str(problem) for problem in refused.value.problems] == [f"{path}:{e}" for e in expected]
    assert not PolicyVersion.objects.exists() and not CostCenter.objects.exists()


def test_the_real_command_answers_deep_nesting_with_a_place_not_a_traceback(tmp_path):
    """In a fresh process, as an editor or CI runs it (the stack there is not pytest's)."""
    path = write(tmp_path, edited("access: {}  ", "access: " + nested(600)))
    result = subprocess.run(
        [sys.executable, "-m", "gigbridge.cli", "policy", "check", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"{path}:29:40: (document): {NESTED_TOO_DEEP}\n1 problem(s) found in {path}\n"
    )


def test_a_file_of_problems_lists_the_first_hundred_and_counts_the_rest():
    # Line 30 sets grace_days; lines 31 to 179 repeat it: 149 problems.
    text = edited("access: {}  ", "access:\n" + "  grace_days: 1\n" * (MAX_PROBLEMS + 50))
    with pytest.raises(PolicyError) as refused:
        parse_policy(text, "p.yaml")
    shown = [str(problem) for problem in refused.value.problems]
    assert len(shown) == MAX_PROBLEMS + 1
    duplicate = "access.grace_days: duplicate key 'grace_days' (first defined at line 30)"
    assert shown[0] == f"p.yaml:31:3: {duplicate}"
    assert shown[-2] == f"p.yaml:{30 + MAX_PROBLEMS}:3: {duplicate}"
    assert shown[-1] == f"p.yaml:{31 + MAX_PROBLEMS}:3: (document): 49 more problems not shown"


def test_the_size_cap_counts_bytes_not_characters():
    # 'é' is two bytes in UTF-8: a file under the cap in characters can be over it in bytes.
    padding = "# " + "é" * ((MAX_FILE_BYTES - len(BASE)) // 2 + 1) + "\n"
    assert len(BASE + padding) <= MAX_FILE_BYTES < len((BASE + padding).encode())
    with pytest.raises(PolicyError, match="larger than 512 KiB"):
        parse_policy(BASE + padding)
