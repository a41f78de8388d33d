"""Start-up checks shared by every long-running process: refuse to start, and say why."""

from __future__ import annotations

import sys
import time
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
        stored = _stored_policy()
        if stored is not None:
            problems.append(
                f"no program policy at {policy_file}, though this installation has one "
                f"(v{stored.number}, from {stored.filename}): put the file back there, or set "
                "GIGBRIDGE_POLICY_FILE to where it is"
            )
        # Else the program is not defined yet: the web starts and shows the set-up wizard
        # (``gigbridge.web.setup``); workers wait for it (``check_or_exit``).
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


def _stored_policy():
    from gigbridge.program.models import PolicyVersion

    return PolicyVersion.objects.order_by("-number").first()


def program_defined() -> bool:
    """Has a program policy ever been activated here?"""
    return _stored_policy() is not None


NOT_DEFINED = (
    "the program is not defined yet (no policy at {file}): define it in the web's set-up "
    "wizard (/setup/), or with `gigbridge init` (questions in a terminal, or --answers FILE), "
    "or set GIGBRIDGE_POLICY_FILE to an existing policy"
)
WAIT_SECONDS = 2.0


def check_or_exit(stream=None, *, setup: str = "optional", sleep=time.sleep) -> bool:
    """Exit (status 2) with every problem that keeps the service from starting; -> whether
    the program is defined (False: the web shows the set-up wizard).

    ``setup`` says what a program that is not defined yet means for this service: "optional"
    (the web: it offers the set-up wizard), "wait" (workers and the scheduler under
    `gigbridge up`: they start once the wizard has defined it) or "required" (one-off runs).
    """
    stream = stream or sys.stderr
    problems = check()
    if not problems and setup != "optional" and not program_defined():
        if setup == "wait":
            stream.write(f"waiting: {NOT_DEFINED.format(file=settings.POLICY_FILE)}\n")
            stream.flush()
            while not program_defined():
                sleep(WAIT_SECONDS)
            problems = check()  # the file the wizard wrote: activated already, checked again
        else:
            problems = [NOT_DEFINED.format(file=settings.POLICY_FILE)]
    if problems:
        stream.write("gigbridge cannot start:\n")
        for problem in problems:
            stream.write(f"  - {problem}\n")
        raise SystemExit(2)
    return setup != "optional" or program_defined()


def setup_notice(url: str) -> list[str]:
    """What the console says while the program is not defined: where to define it, and the
    one-time set-up code when the first admin still has to be made."""
    if program_defined():
        return []
    from django.contrib.auth import get_user_model

    from gigbridge.program import wizard_code

    lines = [f"The program is not set up yet: open {url.rstrip('/')}/setup/ to define it."]
    if get_user_model().objects.exists():
        lines.append("A program admin signs in there and answers the set-up questions.")
        return lines
    code, _ = wizard_code.ensure_code(settings.DATA_DIR)
    lines.append(
        f"The first admin needs this one-time set-up code: {code} "
        f"(also in {wizard_code.code_file(settings.DATA_DIR)})"
    )
    return lines
