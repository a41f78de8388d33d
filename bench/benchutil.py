"""What every benchmark here needs: child processes, free ports, a throw-away PostgreSQL
database, percentiles, and the facts a result is recorded with (machine, code hash).

The benchmarks run as scripts (``python bench/NAME.py``), so this module is imported from the
script's own folder.
"""

from __future__ import annotations

import collections
import hashlib
import json
import math
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_setup() -> None:
    """In a child process that works on the benchmark's database with the product's models."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()


def child_env(data_dir: Path, database_url: str | None, base_url: str) -> dict:
    """The environment of the benchmark's Gigbridge processes: this machine's, less any
    Gigbridge or database setting of its own, pointed at the run's data folder and database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GIGBRIDGE_") and k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        GIGBRIDGE_DATA_DIR=str(data_dir),
        GIGBRIDGE_POLICY_FILE=str(data_dir / "program.yaml"),
        GIGBRIDGE_BASE_URL=base_url,
        DJANGO_SETTINGS_MODULE="gigbridge.settings",
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def emit(event: str, **data) -> None:
    """One JSON line on stdout for the parent, which reads them as they come."""
    print(json.dumps({"event": event, **data}), flush=True)


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def wait_for(predicate, limit: float, step: float = 0.2) -> bool:
    """Poll ``predicate`` for at most ``limit`` seconds; its last answer."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def run(cmd: list[str], env: dict, timeout: float) -> str:
    done = subprocess.run(
        cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_postgres(url: str, name: str, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(f"{url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def stop(proc: subprocess.Popen) -> None:
    """Stop a process started in its own session: its group, SIGTERM then SIGKILL."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass


@contextmanager
def process(cmd: list[str], env: dict, log_path: Path):
    """A child in its own process group, output to ``log_path``; stopped on the way out."""
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield proc
    finally:
        stop(proc)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list (None for an empty one)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def access_log_statuses(log: Path, line: re.Pattern, status_group: int, offset: int = 0,
                        end: int | None = None) -> dict:  # fmt: skip
    """Requests a server's access log shows after byte ``offset`` (up to ``end``), by status:
    ``line`` matches the requests counted, ``status_group`` is its group holding the status."""
    with log.open("rb") as handle:
        handle.seek(offset)
        data = handle.read() if end is None else handle.read(max(0, end - offset))
    statuses = collections.Counter()
    for text in data.decode(errors="replace").splitlines():
        found = line.match(text)
        if found:
            statuses[found[status_group]] += 1
    return {
        "requests": sum(statuses.values()),
        "by_status": dict(statuses),
        "throttled_429": statuses.get("429", 0),
    }


def code_fingerprint() -> str:
    """A short hash of the product's Python files: which code a result was measured on."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "gigbridge").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def machine() -> dict:
    cpu = ""
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_before": list(os.getloadavg()),
    }


def start_sandbox(
    data_dir: Path, port: int, workers: int = 2, extra_env: dict | None = None
) -> tuple[subprocess.Popen, dict]:
    """A sandbox of the benchmark's own (``gigbridge.sandbox run``, its data in ``data_dir``,
    none of the caller's GIGBRIDGE_* settings), listening on ``port``: the process and its
    ``info --json``."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIGBRIDGE_")},
        "GIGBRIDGE_DATA_DIR": str(data_dir),
        **(extra_env or {}),
    }
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "gigbridge.sandbox"]
    log = (data_dir / "sandbox.log").open("ab")
    proc = subprocess.Popen(
        [*command, "run", "--port", str(port), "--workers", str(workers)], env=env, stdout=log,
        stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    if not wait_for(lambda: _listening(port), 60):
        stop(proc)
        raise RuntimeError("the sandbox did not listen within 60 s")
    out = subprocess.run(
        [*command, "info", "--json", "--port", str(port)], env=env, cwd=ROOT,
        capture_output=True, check=True,
    )  # fmt: skip
    return proc, json.loads(out.stdout)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True
