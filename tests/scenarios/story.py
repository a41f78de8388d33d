"""The whole life of an engagement, from a product exactly as ``make run`` leaves it.

Shared by the story tests (tests/e2e/test_story_marketplace.py, test_story_direct_hire.py and
tests/scenarios/test_story_api.py). What they use, and nothing more:

- a sandbox tenant and marketplace of their own, fresh as on a first ``make run`` (its own data
  folder), and the product configured from exactly the environment ``gigbridge up`` gives its
  parts (``gigbridge.sandbox.connect``), prepared by ``gigbridge init --demo`` itself in an empty
  data folder: example policy, demo people and their password in ``demo-credentials.txt``;
- what people do: in the browser, or through the REST API with tokens they made on their
  profile page;
- the product's worker and scheduler, run in this process (``World.work``): they are part of
  the product, ``gigbridge up`` runs them beside the web server;
- the sandbox's own tools: its simulated freelancers, its clock (moved with the product's, never
  by sleeping), the mail it sent through Graph, and reads of the tenant through its Graph API.

No test writes a row into the product's database: whatever exists there, a person or the
product made.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from django.utils import timezone

from gigbridge import clock
from gigbridge.sandbox.client import ssl_context_from

from .marketplace_story import AVOID, DAY, HOUR, Marketplace

__all__ = ["DAY", "HOUR", "AVOID", "World", "as_gigbridge_up", "start_world"]

# Where ``gigbridge.sandbox.connect``'s variables land in the product's settings.
SECTIONS = {
    "GIGBRIDGE_GRAPH_": "GRAPH",
    "GIGBRIDGE_OIDC_": "OIDC",
    "GIGBRIDGE_UPWORK_": "UPWORK",
    "GIGBRIDGE_TEAMS_": "TEAMS",
    "GIGBRIDGE_QUARANTINE_": "FILES",
    "GIGBRIDGE_HUB_": "HUB",
}
# Settings whose keys keep the part of the name after GIGBRIDGE_ (FILES["quarantine_group_id"]).
WHOLE_NAMES = {"FILES"}
GRACE_DAYS = 3  # examples/program.yaml access.grace_days


def as_gigbridge_up(settings, info: dict, base_url: str) -> dict[str, str]:
    """Configure the product as ``gigbridge up`` does with the sandbox on: the same variables
    (``product_env``, ``marketplace_env``, ``teams_env``), read into the settings they name;
    mail links point at where the product listens. Returns the variables."""
    from gigbridge.integrations.msgraph import connection as graph_connection
    from gigbridge.integrations.teams import client as teams_client
    from gigbridge.integrations.teams import validation as teams_validation
    from gigbridge.integrations.upwork import connection as upwork_connection
    from gigbridge.sandbox.connect import marketplace_env, product_env, teams_env

    env = {**product_env(info), **marketplace_env(info), **teams_env(info)}
    for name, value in env.items():
        prefix = next(p for p in SECTIONS if name.startswith(p))
        section = dict(getattr(settings, SECTIONS[prefix]))
        kept = "GIGBRIDGE_" if SECTIONS[prefix] in WHOLE_NAMES else prefix
        key = name.removeprefix(kept).lower()
        assert key in section, f"{name} names no setting in {SECTIONS[prefix]}"
        section[key] = value
        setattr(settings, SECTIONS[prefix], section)
    settings.BASE_URL = base_url.rstrip("/")
    graph_connection.reset()
    upwork_connection.reset()
    teams_client.reset()
    teams_validation.reset()
    return env


def gigbridge_init_demo(settings, data_dir: Path) -> str:
    """``gigbridge init --demo`` in an empty data folder; returns the demo password, read from
    the file it wrote (``make run`` prints the same)."""
    from django.core.management import call_command

    data_dir.mkdir(parents=True, exist_ok=True)
    settings.DATA_DIR = data_dir
    settings.POLICY_FILE = data_dir / "program.yaml"
    out = io.StringIO()
    call_command("init", demo=True, stdout=out, stderr=out)
    assert "demo people loaded" in out.getvalue(), out.getvalue()
    text = (data_dir / "demo-credentials.txt").read_text()
    return re.search(r"^password: (\S+)$", text, re.MULTILINE).group(1)


@dataclass
class World:
    """The sandbox (tenant and marketplace) and the product's worker, seen from outside."""

    info: dict
    password: str
    market: Marketplace = field(init=False)

    def __post_init__(self):
        self.market = Marketplace(self.info)
        self.http = httpx.Client(verify=ssl_context_from(self.info["ca_cert"]), timeout=30)
        self._token = ""
        self._mail_seen: set[str] = set()

    def close(self) -> None:
        self.market.close()
        self.http.close()

    # -- time --------------------------------------------------------------------------------

    def advance(self, seconds: float) -> dt.datetime:
        """Time passes for the sandbox and the product alike (one world time); what the
        simulated freelancers had due by then is done."""
        return self.market.advance(seconds)

    def today(self) -> dt.date:
        return clock.today()

    # -- the product's worker and scheduler --------------------------------------------------

    def work(self, *, schedule: bool = True, rounds: int = 8) -> None:
        """What ``gigbridge up``'s scheduler and worker do now: one scheduler tick (periodic
        reconcile, sync, reminders...), then every job that is due, until none is left."""
        from gigbridge.jobs.actions import run
        from gigbridge.jobs.models import OutboxJob
        from gigbridge.jobs.scheduler import tick

        if schedule:
            failed = {k: v for k, v in tick().items() if isinstance(v, Exception)}
            assert not failed, failed
        for _ in range(rounds):
            due = OutboxJob.objects.filter(
                state=OutboxJob.State.PENDING, next_attempt_at__lte=clock.now()
            ).values_list("pk", flat=True)
            outcomes = [run(pk) for pk in list(due)]
            if not any(o.status == "done" for o in outcomes):
                break
        dead = OutboxJob.objects.filter(state=OutboxJob.State.DEAD)
        assert not dead.exists(), list(dead.values("kind", "last_error"))

    # -- the sandbox's mail (Outlook through Graph) ------------------------------------------

    def mail(self, to: str = "") -> list[dict]:
        """The mail the tenant sent (to ``to``), newest first: recipients, subject, text body."""
        url = self.info["graph_base_url"].removesuffix("/v1.0") + "/_sandbox/mail"
        response = self.http.get(url, params={"to": to} if to else None, auth=self._tools)
        assert response.status_code == 200, response.text
        return [
            {
                "id": m["id"],
                "to": [r["emailAddress"]["address"] for r in m["message"]["toRecipients"]],
                "subject": m["message"].get("subject", ""),
                "body": (m["message"].get("body") or {}).get("content", ""),
            }
            for m in response.json()["value"]
        ]

    def link_in_mail(self, path: str, *, to: str = "", subject: str = "") -> tuple[str, str]:
        """The link to ``path`` (a regular expression, e.g. ``/s/[^/\\s]+/``) in the newest
        mail not read yet (to ``to``, with ``subject`` in its subject): (link, recipient)."""
        found = self.mail(to)
        for message in found:
            if message["id"] in self._mail_seen or subject not in message["subject"]:
                continue
            link = re.search(rf"https?://[^\s]+?{path}", message["body"])
            if link:
                self._mail_seen.add(message["id"])
                return link.group(0), message["to"][0]
        raise AssertionError(f"no unread mail {to or ''} links to {path}: {found[:5]}")

    # -- the tenant, read through the sandbox's Graph API ------------------------------------

    @property
    def _tools(self) -> tuple[str, str]:
        return self.info["client_id"], self.info["client_secret"]

    def graph(self, path: str, **params) -> dict | None:
        """GET a Graph path as an app of the tenant; None when it is not there (404)."""
        if not self._token:
            from gigbridge.sandbox.graph.testing import app_token

            self._token = app_token(self.info)
        response = self.http.get(
            self.info["graph_base_url"] + path,
            params=params or None,
            headers={"Authorization": f"Bearer {self._token}"},
        )
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return response.json()

    def user(self, email: str) -> dict | None:
        query = {"$filter": f"mail eq '{email}'", "$select": "id,mail,userType,displayName"}
        found = self.graph("/users", **query)["value"]
        return found[0] if found else None

    def team(self, name: str) -> dict:
        teams = self.graph("/teams")["value"]
        return next(t for t in teams if t.get("displayName") == name)

    def team_membership(self, team_id: str, user_id: str) -> dict | None:
        members = self.graph(f"/teams/{team_id}/members")["value"]
        return next((m for m in members if m.get("userId") == user_id), None)

    def tasks(self, team_id: str) -> list[dict]:
        """Every Planner task of the Team's plans."""
        tasks = []
        for plan in self.graph(f"/groups/{team_id}/planner/plans")["value"]:
            tasks += self.graph(f"/planner/plans/{plan['id']}/tasks")["value"]
        return tasks

    def folder_share(self, team_id: str, folder: str, email: str) -> dict | None:
        """The permission on the Team's folder (path in its library) granted to ``email``."""
        found = self.graph(f"/groups/{team_id}/drive/root:/{folder}:/permissions")
        for permission in (found or {}).get("value", []):
            site_user = (permission.get("grantedToV2") or {}).get("siteUser") or {}
            if (site_user.get("email") or "").lower() == email.lower():
                return permission
        return None


def end_of_grace(day: dt.date) -> str:
    """A share's expiry as Graph shows it (UTC): the end of the last day of grace, a day of the
    program's time zone (GIGBRIDGE_TIME_ZONE), since "today" is one of its days."""
    last_moment = dt.datetime.combine(day + dt.timedelta(days=GRACE_DAYS), dt.time(23, 59, 59))
    return timezone.make_aware(last_moment).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def start_world(settings, info: dict, data_dir: Path, base_url: str) -> World:
    """The product as ``make run`` leaves it, beside the sandbox ``info`` describes; both
    clocks read the same moment."""
    as_gigbridge_up(settings, info, base_url)
    password = gigbridge_init_demo(settings, data_dir)
    world = World(info, password)
    clock.set_now(world.market.now())
    return world


@pytest.fixture
def own_sandbox(tmp_path_factory):
    """A sandbox tenant and marketplace of the test's own, fresh as on a first ``make run``
    (the seeded marketplace, nothing sent, no guest), its clock on the tests' start instant."""
    from conftest import clock_start
    from gigbridge.sandbox.tests.conftest import SandboxServer, free_port, pin_sandbox_clock

    server = SandboxServer(tmp_path_factory.mktemp("story-sandbox"), free_port())
    server.start()
    try:
        info = server.info()
        pin_sandbox_clock(info, clock_start())
        yield info
    finally:
        server.stop()
