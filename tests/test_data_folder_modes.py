"""The data folder is its owner's alone: created so by the CLI, repaired at service start-up."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from tests.test_cli import gigbridge


def clean_env(data: Path, **extra) -> dict:
    # The operator's environment, not the test run's (no test database, no data folder).
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GIGBRIDGE_", "DATABASE_URL"))
    }
    env.update(GIGBRIDGE_DATA_DIR=str(data), **extra)
    return env


def modes(root: Path) -> dict[str, str]:
    found = {".": f"{stat.S_IMODE(root.stat().st_mode):04o}"}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = f"{stat.S_IMODE(path.lstat().st_mode):04o}"
    return found


def test_init_creates_every_file_for_its_owner_only(tmp_path):
    data = tmp_path / "data"
    previous = os.umask(0o022)  # what a login shell usually has; the child inherits it
    try:
        result = gigbridge("init", "--demo", env=clean_env(data))
    finally:
        os.umask(previous)

    assert result.returncode == 0, result.stderr
    found = modes(data)
    assert {"gigbridge.sqlite3", "secret_key", "program.yaml"} <= set(found)
    opened = {name: mode for name, mode in found.items() if mode not in ("0700", "0600")}
    assert opened == {}
    assert all(
        mode == ("0700" if (data / name).is_dir() else "0600") for name, mode in found.items()
    )


def test_start_up_tightens_an_existing_world_readable_folder(tmp_path):
    data = tmp_path / "data"
    mail = data / "mail"
    mail.mkdir(parents=True)
    (data / "gigbridge.sqlite3").touch()  # an empty file is an empty SQLite database
    (data / "secret_key").write_text("k" * 60)
    for n in range(3):
        (mail / f"{n}.eml").write_text("Subject: decision link\n")
    for path in (data, mail):
        path.chmod(0o755)
    for path in [data / "gigbridge.sqlite3", data / "secret_key", *mail.iterdir()]:
        path.chmod(0o644)

    # The scheduler's start-up: the folder is repaired first; then it stops (not migrated).
    result = gigbridge(
        "scheduler",
        "--once",
        env=clean_env(data, GIGBRIDGE_POLICY_FILE=str(tmp_path / "none.yaml")),
    )

    assert result.returncode == 2 and "gigbridge migrate" in result.stderr, result.stderr
    for line in (
        f"tightened permissions of {data} from 0755 to 0700",
        f"tightened permissions of {data / 'gigbridge.sqlite3'} from 0644 to 0600",
        f"tightened permissions of {data / 'secret_key'} from 0644 to 0600",
        f"tightened permissions of {mail} from 0755 to 0700 (3 entries under it made private)",
    ):
        assert line in result.stderr
    assert set(modes(data).values()) <= {"0700", "0600"}
    # Once private, a second start says nothing.
    again = gigbridge(
        "scheduler",
        "--once",
        env=clean_env(data, GIGBRIDGE_POLICY_FILE=str(tmp_path / "none.yaml")),
    )
    assert "tightened" not in again.stderr


def test_shared_and_foreign_folders_are_left_alone(tmp_path, caplog):
    from gigbridge.filemodes import tighten

    sticky = tmp_path / "shared"
    sticky.mkdir()
    sticky.chmod(0o1777)
    (tmp_path / "link").symlink_to(sys.executable)

    tighten(tmp_path)

    assert stat.S_IMODE(sticky.stat().st_mode) == 0o1777
    assert "not tightening" in caplog.text
