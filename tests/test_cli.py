"""The `gigbridge` command as an operator meets it."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def gigbridge(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "gigbridge.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def test_policy_check_reports_positions_and_exit_codes(tmp_path):
    ok = gigbridge("policy", "check", str(ROOT / "examples" / "program.yaml"))
    assert ok.returncode == 0 and ok.stdout.startswith("OK:")
    bad = tmp_path / "program.yaml"
    bad.write_text(
        (ROOT / "examples" / "program.yaml")
        .read_text()
        .replace("annual_budget: 120000", "annual_budget: -5")
    )
    result = gigbridge("policy", "check", str(bad))
    assert result.returncode == 1
    line = next(n for n, text in enumerate(bad.read_text().splitlines(), 1) if "-5" in text)
    assert f"{bad}:{line}:20: cost_centers.0.annual_budget:" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_the_service_refuses_to_start_on_an_invalid_policy(tmp_path, subprocess_env):
    bad = tmp_path / "program.yaml"
    bad.write_text("version: 1\nprogram: [not, a, mapping\n")
    result = gigbridge("worker", env={**subprocess_env, "GIGBRIDGE_POLICY_FILE": str(bad)})
    assert result.returncode == 2
    assert "gigbridge cannot start" in result.stderr
    assert f"{bad}:3:1: (document): invalid YAML" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_the_service_says_what_to_do_without_a_policy(tmp_path, subprocess_env):
    result = gigbridge(
        "scheduler",
        "--once",
        env={**subprocess_env, "GIGBRIDGE_POLICY_FILE": str(tmp_path / "none.yaml")},
    )
    assert result.returncode == 2
    assert "GIGBRIDGE_POLICY_FILE" in result.stderr and "gigbridge init" in result.stderr


def test_a_secret_file_that_cannot_be_read_is_a_clear_configuration_error(tmp_path):
    import os

    env = {**os.environ, "GIGBRIDGE_SECRET_KEY_FILE": str(tmp_path / "missing")}
    result = gigbridge("policy", "check", str(ROOT / "examples" / "program.yaml"), env=env)
    assert result.returncode == 2
    assert "configuration error: GIGBRIDGE_SECRET_KEY_FILE=" in result.stderr
