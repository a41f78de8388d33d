"""A real sandbox server for the test session: own data folder, a free loopback port, HTTPS.

The sandbox runs with its own Django settings and database, so it is started as a child process
(exactly as ``gigbridge sandbox run`` would) and these tests only talk to it over the network.
They never touch the product database.

The Graph tests' common setup lives here too: ``token`` (an app-only Graph token, one per test
module), ``graph`` (``graph.testing.Graph`` with it), and the product's own client against the
sandbox: ``tokens`` (its ``TokenProvider``), ``client`` (its ``GraphClient``) and ``problems``
(the conformance problems that client met, which must be none when the test ends).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gigbridge.sandbox.client import ssl_context_from
from gigbridge.sandbox.graph.testing import Graph, app_token, set_clock

from .files_support import product_client, token_provider

START_DEADLINE = 30.0  # seconds; a cold start (CA, RSA key, migrations) takes about two


class SandboxServer:
    def __init__(self, data_dir: Path, port: int):
        self.data_dir, self.port = data_dir, port
        self.url = f"https://127.0.0.1:{port}"
        self.log = data_dir / "server.log"
        self.process: subprocess.Popen | None = None

    def env(self) -> dict:
        return {**os.environ, "GIGBRIDGE_DATA_DIR": str(self.data_dir)}

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "gigbridge.sandbox", *args, "--port", str(self.port)]

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.command("run"), env=self.env(), stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"sandbox exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"sandbox did not listen within {START_DEADLINE} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # gunicorn's master stops its workers on SIGTERM
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def info(self) -> dict:
        out = subprocess.run(
            self.command("info", "--json"), env=self.env(), capture_output=True, check=True
        )
        return json.loads(out.stdout)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def pin_sandbox_clock(info: dict, moment: dt.datetime) -> None:
    """Make the sandbox's clock read ``moment`` now; it runs on from there."""
    with httpx.Client(verify=ssl_context_from(info["ca_cert"]), timeout=10) as http:
        set_clock(http, info, now=moment.isoformat())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    server = SandboxServer(tmp_path_factory.mktemp("sandbox-data"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def info(sandbox) -> dict:
    return sandbox.info()


@pytest.fixture(autouse=True)
def _pinned_sandbox_clock(request):
    """The session's sandbox outlives each test: every test that talks to it starts its clock
    on the tests' start instant (the product's clock is pinned there by the root conftest)."""
    if "info" in request.fixturenames:
        from conftest import clock_start

        pin_sandbox_clock(request.getfixturevalue("info"), clock_start())


@pytest.fixture
def http(sandbox, info):
    """An httpx client that trusts exactly the sandbox CA."""
    with httpx.Client(
        base_url=sandbox.url, verify=ssl_context_from(info["ca_cert"]), timeout=10
    ) as client:
        yield client


# -- Graph ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def token(info):
    return app_token(info)


@pytest.fixture
def graph(http, info, token):
    return Graph(http, info, token)


@pytest.fixture(scope="module")
def tokens(info):
    return token_provider(info)


@pytest.fixture
def problems():
    found: list[str] = []
    yield found
    assert found == []


@pytest.fixture
def client(info, tokens, problems):
    with product_client(info, tokens, problems) as graph_client:
        yield graph_client
