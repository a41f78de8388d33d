"""Start-up without a program: the web starts (and offers the wizard), workers wait for it,
one-off runs refuse; an invalid policy still stops everything."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from gigbridge import startup
from gigbridge.program import wizard_code
from gigbridge.program.actions import activate_policy_file

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "program.yaml"


@pytest.fixture
def empty(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.POLICY_FILE = tmp_path / "program.yaml"
    return tmp_path


def test_the_web_starts_without_a_program_and_says_where_to_define_it(empty):
    assert startup.check() == []
    assert startup.check_or_exit(io.StringIO()) is False
    lines = startup.setup_notice("http://127.0.0.1:8000/")
    assert (
        lines[0] == "The program is not set up yet: open http://127.0.0.1:8000/setup/ to define it."
    )
    code = wizard_code.read_code(empty)
    assert code in lines[1]
    assert wizard_code.code_file(empty).stat().st_mode & 0o777 == 0o600
    assert startup.setup_notice("http://x/")[1] == lines[1]  # the same code until it is used


def test_with_accounts_the_notice_names_no_code(empty):
    get_user_model().objects.create_user("ada")
    assert len(startup.setup_notice("http://x/")) == 2
    assert not wizard_code.code_file(empty).exists()


def test_a_one_off_run_refuses_and_says_how_to_define_the_program(empty):
    err = io.StringIO()
    with pytest.raises(SystemExit) as stopped:
        startup.check_or_exit(err, setup="required")
    assert stopped.value.code == 2
    assert "the program is not defined yet" in err.getvalue() and "/setup/" in err.getvalue()


def test_a_worker_waits_until_the_wizard_has_defined_the_program(empty):
    naps = []

    def sleep(seconds):
        naps.append(seconds)
        if len(naps) == 3:  # meanwhile the wizard writes the file and activates it
            (empty / "program.yaml").write_text(EXAMPLE.read_text())
            activate_policy_file(empty / "program.yaml", actor="wizard")

    err = io.StringIO()
    assert startup.check_or_exit(err, setup="wait", sleep=sleep) is True
    assert len(naps) == 3 and "waiting: the program is not defined yet" in err.getvalue()


def test_an_invalid_policy_still_stops_the_web(empty):
    (empty / "program.yaml").write_text("version: 1\nprogram: [broken\n")
    with pytest.raises(SystemExit):
        startup.check_or_exit(io.StringIO())


def test_a_missing_file_of_a_defined_program_stops_it(empty):
    (empty / "program.yaml").write_text(EXAMPLE.read_text())
    activate_policy_file(empty / "program.yaml")
    (empty / "program.yaml").unlink()
    problems = startup.check()
    assert len(problems) == 1 and "though this installation has one (v1" in problems[0]
    assert startup.setup_notice("http://x/") == []
