"""`gigbridge up` starts our own clamd unless a scanner is configured; `gigbridge clamd`."""

from __future__ import annotations

import pytest


@pytest.fixture
def up_parts(monkeypatch, settings, tmp_path):
    """Run ``gigbridge up --no-sandbox`` with its children stood in for: -> {part: (cmd, env)}."""
    from django.core.management import call_command

    from gigbridge.jobs.management.commands import up

    started: dict[str, tuple[list, dict]] = {}

    class Child:
        returncode = 0

        def __init__(self, command, env):
            started[command[3]] = (command, env)

        def poll(self):
            return 0

        def terminate(self):
            pass

        def wait(self, timeout=None):
            return 0

    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(up, "check_or_exit", lambda stream: None)
    monkeypatch.setattr(up.subprocess, "Popen", Child)
    monkeypatch.setattr(up.signal, "signal", lambda *args: None)
    monkeypatch.setattr(up.time, "sleep", lambda seconds: None)

    def run(*args: str) -> dict:
        started.clear()
        with pytest.raises(SystemExit):
            call_command("up", "--no-sandbox", *args)
        return dict(started)

    return run


def test_up_starts_our_clamd_and_tells_every_part_its_address(up_parts, settings, capsys):
    settings.CLAMAV = {**settings.CLAMAV, "address": None}
    parts = up_parts()
    assert set(parts) == {"web", "worker", "scheduler", "clamd"}
    assert parts["clamd"][0][1:] == ["-m", "gigbridge.cli", "clamd"]
    address = f"unix://{settings.DATA_DIR.resolve()}/clamav/clamd.sock"
    for _, env in parts.values():
        assert env["GIGBRIDGE_CLAMD_ADDRESS"] == address
    assert f"our own clamd at {address}" in capsys.readouterr().out


def test_a_configured_scanner_wins_and_no_clamd_is_started(up_parts, settings, capsys):
    settings.CLAMAV = {**settings.CLAMAV, "address": "tcp://scanner.internal:3310"}
    parts = up_parts()
    assert "clamd" not in parts
    assert "Virus scanner: clamd at tcp://scanner.internal:3310." in capsys.readouterr().out


def test_no_clamd_when_asked_or_not_installed(up_parts, settings, monkeypatch, capsys):
    settings.CLAMAV = {**settings.CLAMAV, "address": None}
    assert "clamd" not in up_parts("--no-clamd")
    assert "none (--no-clamd)" in capsys.readouterr().out
    from gigbridge.integrations.clamav import daemon

    monkeypatch.setattr(daemon, "installed", lambda: False)
    parts = up_parts()
    assert "clamd" not in parts
    assert all("GIGBRIDGE_CLAMD_ADDRESS" not in env for _, env in parts.values())
    assert "clamd is not installed (run `make clamav`" in capsys.readouterr().out


def test_gigbridge_clamd_runs_clamd_on_the_data_folder(settings, tmp_path, monkeypatch):
    from django.core.management import call_command

    from gigbridge.jobs.management.commands import clamd

    settings.DATA_DIR = tmp_path
    ran = []
    monkeypatch.setattr(clamd.os, "execv", lambda path, argv: ran.append(argv))
    monkeypatch.setattr(clamd.os, "dup2", lambda fd, to: None)  # pytest keeps its output
    call_command("clamd")
    assert (tmp_path / "clamav" / "clamd.out").stat().st_mode & 0o077 == 0
    (argv,) = ran
    assert argv[1:] == [
        "--config-file",
        str(tmp_path.resolve() / "clamav" / "clamd.conf"),
        "--foreground",
    ]
