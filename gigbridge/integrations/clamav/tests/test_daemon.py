"""Our own clamd's folder: private, configured never to pass an over-size file silently."""

from __future__ import annotations

import stat

import pytest

from gigbridge.integrations.clamav import daemon
from gigbridge.integrations.clamav.client import Clamd


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_prepare_makes_a_private_folder_with_the_test_signatures(tmp_path):
    paths = daemon.prepare(tmp_path)
    assert paths.folder == tmp_path.resolve() / "clamav"
    for folder in (paths.folder, paths.database, paths.temporary):
        assert mode(folder) == 0o700
    assert mode(paths.conf) == 0o600
    conf = paths.conf.read_text().splitlines()
    assert "AlertExceedsMax yes" in conf
    assert f"LocalSocket {paths.socket}" in conf
    assert f"DatabaseDirectory {paths.database}" in conf
    assert "StreamMaxLength 2047M" in conf
    (database,) = paths.database.iterdir()
    line = database.read_text().strip()
    # sigtool's line: MD5, size and name; the EICAR bytes themselves are never kept.
    assert line.endswith(f":68:{daemon.SIGNATURE_NAME}")
    assert b"EICAR" not in database.read_bytes()
    assert list(paths.temporary.iterdir()) == []
    assert paths.address == f"unix://{paths.socket}"


def test_prepare_keeps_a_database_already_there(tmp_path):
    paths = daemon.prepare(tmp_path)
    (paths.database / "gigbridge-test.hdb").unlink()
    (paths.database / "main.cvd").write_bytes(b"an operator's database")
    daemon.prepare(tmp_path)
    assert [p.name for p in paths.database.iterdir()] == ["main.cvd"]


def test_a_socket_path_too_long_is_refused_clearly(tmp_path):
    deep = tmp_path / ("x" * 120)
    with pytest.raises(daemon.DaemonError, match="longer than 107 bytes"):
        daemon.prepare(deep)


def test_start_stop_and_a_stale_socket(tmp_path):
    running = daemon.start(tmp_path)
    try:
        assert Clamd(running.address).ping()
    finally:
        running.stop()
    assert running.process.returncode is not None
    # A socket left behind (a clamd killed hard) does not keep the next one from starting.
    running.paths.socket.touch()
    again = daemon.start(tmp_path)
    try:
        assert Clamd(again.address).ping()
    finally:
        again.stop()


def test_a_clamd_that_cannot_start_says_why(tmp_path):
    paths = daemon.prepare(tmp_path)
    (paths.database / "gigbridge-test.hdb").write_text("not a signature\n")
    with pytest.raises(daemon.DaemonError, match="clamd exited with"):
        daemon.start(tmp_path, deadline=30)
