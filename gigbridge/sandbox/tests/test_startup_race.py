"""`sandbox run` and `sandbox info` started at the same moment on a fresh data folder (what any
script does) both succeed: the database is migrated and seeded once, under a file lock."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from .conftest import free_port

ROUNDS = 3
DEADLINE = 90.0  # seconds for both to be ready; a cold start takes a few on a busy machine


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.parametrize("attempt", range(ROUNDS))
def test_run_and_info_started_together_both_succeed(tmp_path, attempt):
    port = free_port()
    env = {**os.environ, "GIGBRIDGE_DATA_DIR": str(tmp_path)}  # fresh: nothing migrated yet
    command = [sys.executable, "-m", "gigbridge.sandbox"]
    run_log = tmp_path / "run.log"
    with open(run_log, "wb") as log:
        run = subprocess.Popen(
            [*command, "run", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    info = subprocess.Popen(
        [*command, "info", "--json", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + DEADLINE
        listening = False
        while time.monotonic() < deadline and not (listening and info.poll() is not None):
            assert run.poll() is None, f"`sandbox run` exited:\n{run_log.read_text()[-3000:]}"
            listening = listening or _listening(port)
            time.sleep(0.1)  # polling with a deadline, not waiting for something to happen
        out, err = info.communicate(timeout=max(1.0, deadline - time.monotonic()))
        assert info.returncode == 0, err.decode()[-3000:]
        assert json.loads(out)["tenant_domain"] == "contoso.example"
        assert listening, f"`sandbox run` did not listen:\n{run_log.read_text()[-3000:]}"
        assert "already exists" not in run_log.read_text()
    finally:
        for process in (run, info):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
