"""`gigbridge init`: the wizard's questions in a terminal, an answers file, or neither."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from gigbridge.program import wizard_code
from gigbridge.program.actions import current
from gigbridge.program.models import PolicyVersion

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_ANSWERS = ROOT / "examples" / "answers.yaml"

pytestmark = pytest.mark.django_db


@pytest.fixture
def installation(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.POLICY_FILE = tmp_path / "program.yaml"
    return tmp_path


def init(monkeypatch, *args, stdin: str = "", **options) -> tuple[str, str, int]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("init", *args, stdout=out, stderr=err, **options)
    except SystemExit as exit_:
        code = exit_.code
    return out.getvalue(), err.getvalue(), code


# One answer per line, in the order the questions come; "" takes the default in brackets.
TYPED = [
    "Acme Freelance",  # program name
    "eur",  # currency: capitals not needed
    "13",  # fiscal month: refused, asked again
    "4",
    "",  # exchange rates [USD=0.92]
    "",  # task categories
    "",  # worker categories
    "CC-ONE",
    "Research",
    "50000",
    "not-an-email",  # refused, asked again
    "owner@acme.example",
    "",  # no second cost center
    "",  # manager approves [y]
    "7500",  # procurement from
    "n",  # legal for confidential: no
    "",  # hr for contingent [y]
    "never",  # finance: never
    "NDA",
    "https://legal.acme.example/nda.pdf",
    "365",
    "",  # max engagement days [180]
    "",  # cooling-off [90]
    "kp, xx",  # refused: XX is no country
    "KP, CU",
    "",  # grace [3]
    "read",
    "",  # channel [outlook]
    "",  # security contacts
    "y",  # confirm
]


def test_the_questions_one_by_one_write_and_activate_the_policy(monkeypatch, installation):
    out, err, code = init(monkeypatch, interactive=True, stdin="\n".join(TYPED) + "\n")
    assert code == 0, err
    assert "Month the fiscal year starts (1-12) [1]: " in out
    assert "Input should be less than or equal to 12; try again." in out
    assert "must be an email address" in out and "XX is not an ISO 3166-1 country" in out
    assert "Program:        Acme Freelance (EUR, fiscal year from month 4)" in out
    policy_file = installation / "program.yaml"
    assert policy_file.stat().st_mode & 0o777 == 0o600
    version, policy = current()
    assert version.number == 1 and version.source_text == policy_file.read_text()
    assert version.activated_by == "gigbridge init"
    assert policy.program.fiscal_year_start_month == 4
    assert [c.owner for c in policy.cost_centers] == ["owner@acme.example"]
    assert [r.id for r in policy.approvals.rules] == ["manager", "procurement", "hr-contingent"]
    assert str(policy.approvals.rules[1].when.amount_at_least) == "7500"
    assert policy.compliance.terms_of("NDA").valid_days == 365
    assert policy.compliance.blocked_countries == ("KP", "CU")
    assert policy.access.file_share_role == "read"


def test_saying_no_at_the_end_writes_nothing(monkeypatch, installation):
    typed = [*TYPED[:-1], "n"]
    out, _, code = init(monkeypatch, interactive=True, stdin="\n".join(typed) + "\n")
    assert code == 1 and "nothing written" in out
    assert not (installation / "program.yaml").exists()
    assert not PolicyVersion.objects.exists()


def test_answers_that_end_early_write_nothing(monkeypatch, installation):
    _, err, code = init(monkeypatch, interactive=True, stdin="Acme\n")
    assert code == 1 and "the answers ended before the questions did" in err
    assert not (installation / "program.yaml").exists()


def test_an_answers_file_runs_with_no_questions(monkeypatch, installation):
    out, err, code = init(monkeypatch, answers=str(EXAMPLE_ANSWERS))
    assert code == 0, err
    assert "policy v1 activated: Contoso Freelance Pilot" in out
    _, policy = current()
    assert [c.code for c in policy.cost_centers] == ["CC-MKT", "CC-ENG", "CC-DATA"]
    # Run again: the policy exists and is not replaced without --force.
    _, err, code = init(monkeypatch, answers=str(EXAMPLE_ANSWERS))
    assert code == 1 and "was not replaced (add --force" in err


def test_force_replaces_the_policy_with_a_new_version(monkeypatch, installation):
    (installation / "program.yaml").write_text("an old policy\n")
    out, err, code = init(monkeypatch, answers=str(EXAMPLE_ANSWERS), force=True)
    assert code == 0, err
    assert (installation / "program.yaml").read_text().startswith("# Contoso Freelance Pilot")


def test_a_bad_answers_file_exits_2_with_every_problem_and_where(
    monkeypatch, installation, tmp_path
):
    bad = tmp_path / "answers.json"
    bad.write_text(
        '{"program_name": "", "currency": "EUX", "task_categories": ["Bad Slug"],'
        ' "worker_categories": ["freelancer"], "approval_rules": [],'
        ' "cost_centers": [{"code": "CC-A", "name": "A", "annual_budget": 5,'
        ' "owner": "nobody"}]}'
    )
    _, err, code = init(monkeypatch, answers=str(bad))
    assert code == 2
    assert f"{bad}: program_name: must not be empty" in err
    assert f"{bad}: currency: EUX is not an ISO 4217 currency code" in err
    assert f"{bad}: task_categories.0: must be lowercase letters" in err
    assert f"{bad}: cost_centers.0.owner: must be an email address" in err
    assert "4 problem(s)" in err
    assert not (installation / "program.yaml").exists()


def test_no_terminal_and_no_answers_leaves_the_program_undefined(monkeypatch, installation):
    out, _, code = init(monkeypatch)
    assert code == 0
    assert "The program is not defined yet" in out and "--answers" in out and "/setup/" in out
    assert not (installation / "program.yaml").exists()
    assert not PolicyVersion.objects.exists()
    code_file = wizard_code.code_file(installation)
    assert code_file.stat().st_mode & 0o777 == 0o600
    assert wizard_code.read_code(installation) in out
    # Run again: the same code (it is used once, by the first admin).
    again, _, _ = init(monkeypatch)
    assert wizard_code.read_code(installation) in again


def test_demo_keeps_installing_the_example_policy_and_demo_people(monkeypatch, installation):
    out, err, code = init(monkeypatch, demo=True)
    assert code == 0, err
    assert "installed the example policy" in out and "demo people loaded" in out
    assert current()[1].program.name == "Contoso Freelance Pilot"
