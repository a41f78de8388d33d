"""The sandbox process: discovery, viewer, info, TLS verification and state across restarts."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import httpx
import jwt
import pytest

from gigbridge.sandbox.client import ssl_context_from

from .helpers import redeem, sign_in


def test_info_describes_the_sandbox(sandbox, info):
    assert info["authority"] == f"{sandbox.url}/{info['tenant_id']}"
    assert info["graph_base_url"] == f"{sandbox.url}/v1.0"
    assert info["marketplace_base_url"] == f"{sandbox.url}/upwork"
    assert info["tenant_domain"] == "contoso.example"
    assert info["ca_cert"] == str(sandbox.data_dir / "sandbox" / "ca.pem")
    secret_file = sandbox.data_dir / "sandbox" / "outside-tools.secret"
    assert secret_file.read_text().strip() == info["client_secret"]
    assert info["upwork"]["base_host"] == f"{sandbox.url}/upwork"


def test_info_prints_the_clock_and_moving_it_as_it_says_works(sandbox, http, info):
    from conftest import clock_start  # the tests' instant, where the sandbox clock is pinned

    clock = sandbox.info()["clock"]  # fresh: the session's ``info`` printed an older now
    assert clock["url"] == f"{sandbox.url}/_sandbox/clock"
    assert '{"advance_seconds": n}' in clock["move"]
    now = dt.datetime.fromisoformat(clock["now"])
    # The pinned clock runs on from the start instant: a minute covers starting `info`.
    assert clock_start() <= now < clock_start() + dt.timedelta(minutes=1)
    assert clock["world_offset_seconds"] >= clock["offset_seconds"]

    moved = http.post(clock["url"], json={"advance_seconds": 86400}, auth=_tools(info))

    assert moved.status_code == 200, moved.text
    later = dt.datetime.fromisoformat(sandbox.info()["clock"]["now"])
    assert now + dt.timedelta(days=1) <= later < now + dt.timedelta(days=1, minutes=1)


def _tools(info: dict) -> tuple[str, str]:
    return info["client_id"], info["client_secret"]


def test_info_lists_the_tools_and_each_answers(sandbox, http, info):
    tools = info["tools"]
    market = tools["marketplace"]
    assert market["act_url"] == f"{sandbox.url}/upwork/_sandbox/act"
    for url in (tools["clock_url"], tools["graph"]["control_url"], market["control_url"],
                market["freelancers_url"]):  # fmt: skip
        assert http.get(url).status_code == 401, url  # the tools need the outside-tools app
        assert http.get(url, auth=_tools(info)).status_code == 200, url
    freelancers = http.get(market["freelancers_url"], auth=_tools(info)).json()["value"]
    assert len(freelancers) == 8
    ticked = http.post(market["tick_url"], auth=_tools(info))
    assert ticked.status_code == 200 and "performed" in ticked.json()
    refused = http.post(market["act_url"], json={"action": "dance"}, auth=_tools(info))
    assert refused.status_code == 400 and "action must be one of" in refused.text
    page = http.get(info["viewer_url"])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    signed_in = http.post(
        tools["viewer_sign_in_url"],
        data={"csrfmiddlewaretoken": token, "client_id": info["client_id"],
              "client_secret": info["client_secret"], "next": "/"},
        headers={"Origin": sandbox.url},
    )  # fmt: skip
    assert signed_in.status_code == 303, signed_in.text
    clock_form = tools["viewer_clock_url"].removeprefix(sandbox.url)
    assert f'action="{clock_form}"' in http.get(info["viewer_url"]).text  # signed in: the form


def test_openid_configuration(http, info):
    config = http.get(f"{info['authority']}/v2.0/.well-known/openid-configuration").json()

    assert config["issuer"] == f"{info['authority']}/v2.0"
    assert config["token_endpoint"] == f"{info['authority']}/oauth2/v2.0/token"
    assert config["authorization_endpoint"] == f"{info['authority']}/oauth2/v2.0/authorize"
    assert config["jwks_uri"] == f"{info['authority']}/discovery/v2.0/keys"
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]


def test_the_tenant_can_be_named_by_domain(http, info):
    config = http.get("/contoso.example/v2.0/.well-known/openid-configuration").json()

    assert config["issuer"] == f"{info['authority']}/v2.0"


def test_viewer_lists_tenant_apps_and_users_but_no_secret(http, info):
    page = http.get("/")

    assert page.status_code == 200
    for text in (info["tenant_id"], info["client_id"], "Gigbridge outside tools", "Team.Create"):
        assert text in page.text
    assert "hank@contoso.example" in page.text
    assert info["client_secret"] not in page.text
    assert info["sign_in"]["client_secret"] not in page.text


def test_tls_handshake_fails_without_the_sandbox_ca(sandbox):
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{sandbox.url}/")


def test_the_certificate_is_valid_for_localhost_too(sandbox, info):
    response = httpx.get(
        f"https://localhost:{sandbox.port}/", verify=ssl_context_from(info["ca_cert"])
    )

    assert response.status_code == 200


def test_refuses_to_listen_beyond_loopback(sandbox):
    everywhere = "0.0.0.0"  # noqa: S104 - the address the sandbox must refuse
    result = subprocess.run(
        [sys.executable, "-m", "gigbridge.sandbox", "run", "--host", everywhere, "--port", "1"],
        env=sandbox.env(),
        capture_output=True,
        text=True,
    )

    assert result.returncode == 2
    assert "loopback only" in result.stderr


def test_state_survives_a_restart(sandbox, info, http):
    before = sign_in(http, info, "ada@contoso.example")

    sandbox.restart()

    # Same tenant, apps, secrets, CA and tools; the clock ran on meanwhile.
    assert {**sandbox.info(), "clock": None} == {**info, "clock": None}
    keys = http.get(f"{info['authority']}/discovery/v2.0/keys").json()
    kid = jwt.get_unverified_header(before["id_token"])["kid"]
    assert kid in [key["kid"] for key in keys["keys"]]  # same signing key
    after = redeem(http, info, grant_type="refresh_token", refresh_token=before["refresh_token"])
    assert after.status_code == 200, after.text
