"""Two `gigbridge init` started together on a fresh data folder (a script, replicas sharing
it) both succeed: the database is migrated once, under a file lock."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("attempt", range(2))
def test_two_inits_at_once_both_succeed(tmp_path, attempt):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "GIGBRIDGE_POLICY_FILE"}  # the embedded default
    }
    env["GIGBRIDGE_DATA_DIR"] = str(tmp_path)
    command = [sys.executable, "-m", "gigbridge.cli", "init"]
    both = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for process in both:
        _, err = process.communicate(timeout=180)
        assert process.returncode == 0, err.decode()[-3000:]
    assert (tmp_path / "gigbridge.sqlite3").exists()
