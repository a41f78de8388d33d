"""The set-up wizard's answers: bounds, errors that name the answer, and the policy they make."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from gigbridge.program import wizard
from gigbridge.program.policy import parse_policy

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_ANSWERS = ROOT / "examples" / "answers.yaml"


def example() -> dict:
    return yaml.safe_load(EXAMPLE_ANSWERS.read_text())


def problems(data: dict) -> dict[str, list[str]]:
    with pytest.raises(wizard.AnswersError) as caught:
        wizard.validate_answers(data)
    return caught.value.by_field()


def test_the_example_answers_make_a_policy_that_says_what_they_said():
    answers = wizard.read_answers_file(EXAMPLE_ANSWERS)
    text, policy = wizard.policy_from_answers(answers)
    assert policy == parse_policy(text)
    assert policy.program.name == "Contoso Freelance Pilot"
    assert policy.program.exchange_rates == {"USD": Decimal("0.92")}
    assert [c.code for c in policy.cost_centers] == ["CC-MKT", "CC-ENG", "CC-DATA"]
    assert policy.cost_centers[1].annual_budget == Decimal("250000")
    assert [r.id for r in policy.approvals.rules] == [
        "manager",
        "procurement",
        "legal-confidential",
        "hr-contingent",
        "finance",
    ]
    finance = policy.approvals.rules[-1]
    assert finance.when.amount_at_least == Decimal("25000") and finance.mode == "sequential"
    assert policy.compliance.required_agreements == ("NDA", "MSA")
    assert policy.compliance.terms_of("MSA").valid_days == 730
    assert policy.compliance.blocked_countries == ("CU", "IR", "KP", "SY", "RU", "BY")
    assert policy.access.file_share_role == "write"
    assert policy.files.security_contacts == ("audrey@contoso.example",)
    # Commented like examples/program.yaml: each section says what it is for.
    assert "# Annual freelance budgets." in text and "# 250,000 EUR a fiscal year" in text


def test_the_written_policy_passes_policy_check(tmp_path, capsys):
    path = tmp_path / "program.yaml"
    path.write_text(wizard.render_policy(wizard.read_answers_file(EXAMPLE_ANSWERS)))
    call_command("policy", "check", str(path))
    assert capsys.readouterr().out.startswith(f"OK: {path} is a valid policy (3 cost centers")


def test_smallest_answers_get_the_defaults_and_still_make_a_valid_policy():
    answers = wizard.validate_answers(
        {
            "program_name": "Tiny",
            "currency": "usd",
            "task_categories": ["design"],
            "worker_categories": ["freelancer"],
            "cost_centers": [
                {"code": "cc-1", "name": "One", "annual_budget": "1000.50", "owner": "o@x.example"}
            ],
            "approval_rules": [],
        }
    )
    assert answers.currency == "USD" and answers.cost_centers[0].code == "CC-1"
    text, policy = wizard.policy_from_answers(answers)
    assert policy.approvals.rules == () and policy.compliance.required_agreements == ()
    assert policy.cost_centers[0].annual_budget == Decimal("1000.50")
    assert policy.compliance.max_engagement_days == 180 and policy.access.grace_days == 3


def test_codes_yaml_would_misread_are_quoted():
    data = example()
    data["blocked_countries"] = ["NO", "KP"]
    data["program_name"] = "yes: no # not a comment"
    text, policy = wizard.policy_from_answers(wizard.validate_answers(data))
    assert policy.compliance.blocked_countries == ("NO", "KP")
    assert policy.program.name == "yes: no # not a comment"
    assert "'NO'" in text


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda d: d.update(currency="EUX"), "currency", "not an ISO 4217 currency"),
        (lambda d: d.update(currency="EURO"), "currency", "three-letter ISO 4217"),
        (
            lambda d: d.update(blocked_countries=["KP", "XX"]),
            "blocked_countries.1",
            "not an ISO 3166-1 country",
        ),
        (
            lambda d: d.update(fiscal_year_start_month=13),
            "fiscal_year_start_month",
            "less than or equal to 12",
        ),
        (lambda d: d.update(max_engagement_days=0), "max_engagement_days", "greater than or equal"),
        (lambda d: d.update(access_grace_days=91), "access_grace_days", "less than or equal to 90"),
        (
            lambda d: d["cost_centers"][1].update(owner="dan"),
            "cost_centers.1.owner",
            "email address",
        ),
        (
            lambda d: d["cost_centers"][0].update(annual_budget="-5"),
            "cost_centers.0.annual_budget",
            "greater than or equal to 0",
        ),
        (
            lambda d: d["cost_centers"][0].update(annual_budget="1e12"),
            "cost_centers.0.annual_budget",
            "less than or equal",
        ),
        (
            lambda d: d["cost_centers"].append(dict(d["cost_centers"][0])),
            "cost_centers.3.code",
            "given twice",
        ),
        (
            lambda d: d["approval_rules"][0].update(approvers=["ceo"]),
            "approval_rules.0.approvers.0",
            "manager",
        ),
        (
            lambda d: d["agreements"][1].update(document="http://legal.example/msa.pdf"),
            "agreements.1.document",
            "https://",
        ),
        (
            lambda d: d["agreements"][1].update(document="../secrets"),
            "agreements.1.document",
            "inside the data folder",
        ),
        (
            lambda d: d.update(worker_categories=["freelancer"]),
            "approval_rules.3.when.worker_category.0",
            "not one of the program's",
        ),
        (lambda d: d.update(program_name="x" * 201), "program_name", "at most 200"),
        (
            lambda d: d.update(task_categories=[f"t{i}" for i in range(51)]),
            "task_categories",
            "at most 50",
        ),
        (lambda d: d.update(cost_centers=[]), "cost_centers", "at least 1"),
        (lambda d: d.update(colour="blue"), "colour", "not a question"),
        (lambda d: d.pop("program_name"), "program_name", "is required"),
    ],
)
def test_a_wrong_answer_is_named_with_the_reason(change, path, words):
    data = copy.deepcopy(example())
    change(data)
    found = problems(data)
    assert path in found, found
    assert any(words in message for message in found[path]), found[path]


def test_every_problem_is_reported_at_once():
    data = example()
    data["currency"] = "XYZ"
    data["cost_centers"][0]["owner"] = "nobody"
    data["access_grace_days"] = -1
    assert {"currency", "cost_centers.0.owner", "access_grace_days"} <= set(problems(data))


def test_an_answers_file_that_is_not_a_mapping_or_not_yaml_is_refused(tmp_path):
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    for path in (listed, broken):
        with pytest.raises(wizard.AnswersError):
            wizard.read_answers_file(path)


def test_standard_rules_from_the_terminal_questions_are_valid_rules():
    rules = wizard.standard_rules(procurement_from=None, finance_from=Decimal("10000.50"))
    assert [r["id"] for r in rules] == ["manager", "legal-confidential", "hr-contingent", "finance"]
    data = example()
    data["approval_rules"] = rules
    _, policy = wizard.policy_from_answers(wizard.validate_answers(data))
    assert policy.approvals.rules[-1].when.amount_at_least == Decimal("10000.50")


def test_the_policy_file_is_private_and_never_replaced_without_force(tmp_path):
    path = tmp_path / "sub" / "program.yaml"
    wizard.write_policy_file(path, "first\n")
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        wizard.write_policy_file(path, "second\n")
    assert path.read_text() == "first\n"
    wizard.write_policy_file(path, "second\n", force=True)
    assert path.read_text() == "second\n" and path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["program.yaml"]
