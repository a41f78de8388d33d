"""Start-up checks shared by every long-running process: refuse to start, and say why."""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor

from gigbridge.filemodes import tighten
from gigbridge.program.policy import PolicyError


class StartupError(Exception):
    pass


def check() -> list[str]:
    """Problems that keep the service from starting, each with what to do about it."""
    problems: list[str] = []
    # Before the database is opened: the data folder (and its SQLite files) become private.
    tighten(Path(settings.DATA_DIR))
    try:
        connection.ensure_connection()
    except OperationalError as exc:
        db = settings.DATABASES["default"]
        return [
            f"cannot reach the database ({db['ENGINE'].rsplit('.', 1)[-1]} "
            f"{db.get('HOST') or db['NAME']}): {exc}. Check DATABASE_URL."
        ]
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        problems.append(
            "the database schema is not up to date: run `gigbridge migrate` (or `gigbridge init`)"
        )
        return problems
    from gigbridge.integrations.upwork.connection import config_problems as upwork_problems

    problems.extend(upwork_problems())
    problems.extend(world_clock_problems())
    problems.extend(scanner_problems())
    policy_file = settings.POLICY_FILE
    if not policy_file.exists():
        problems.append(
            f"no program policy at {policy_file}: set GIGBRIDGE_POLICY_FILE, or run "
            "`gigbridge init` to start from examples/program.yaml"
        )
        return problems
    from gigbridge.program.actions import activate_policy_file

    try:
        version, created = activate_policy_file(policy_file)
    except PolicyError as exc:
        problems.append(f"the program policy {policy_file} is invalid:\n{exc}")
    else:
        if created:
            print(f"policy v{version.number} activated from {policy_file}", file=sys.stderr)
    return problems


def scanner_problems() -> list[str]:
    """A clamd address that cannot be used (an unreachable clamd is the health page's)."""
    from gigbridge.integrations.clamav.client import parse_address

    address = settings.CLAMAV.get("address")
    try:
        if address:
            parse_address(address)
    except ValueError as exc:
        return [f"GIGBRIDGE_CLAMD_ADDRESS: {exc}"]
    return []


def world_clock_problems() -> list[str]:
    """Following the sandbox's clock is for the embedded default only (gigbridge.worldclock)."""
    from gigbridge import worldclock
    from gigbridge.clock import world

    follower = world()
    urls = {
        "GIGBRIDGE_GRAPH_BASE_URL": settings.GRAPH["base_url"],
        "GIGBRIDGE_UPWORK_GRAPHQL_URL": settings.UPWORK["graphql_url"],
    }
    return worldclock.config_problems(str(follower.path) if follower else None, urls)


def check_or_exit(stream=None) -> None:
    problems = check()
    if problems:
        stream = stream or sys.stderr
        stream.write("gigbridge cannot start:\n")
        for problem in problems:
            stream.write(f"  - {problem}\n")
        raise SystemExit(2)
