"""Connect the product to the sandbox tenant: the environment ``gigbridge up`` gives its parts.

Runs in the product's process (not the sandbox's): it asks ``gigbridge sandbox info --json`` in a
child process, because the sandbox is its own Django project with its own settings.
"""

from __future__ import annotations

import json
import subprocess
import sys


def sandbox_info(port: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "gigbridge.sandbox", "info", "--json", "--port", str(port)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout)


def product_env(info: dict) -> dict[str, str]:
    """Graph (app-only) and OIDC sign-in settings pointing at the sandbox, CA trusted exactly."""
    authority = info["authority"]
    host, tenant_id = authority.removeprefix("https://").rsplit("/", 1)
    return {
        "GIGBRIDGE_GRAPH_TENANT_ID": tenant_id,
        "GIGBRIDGE_GRAPH_CLIENT_ID": info["client_id"],
        "GIGBRIDGE_GRAPH_CLIENT_SECRET": info["client_secret"],
        "GIGBRIDGE_GRAPH_AUTHORITY_HOST": host,
        "GIGBRIDGE_GRAPH_BASE_URL": info["graph_base_url"],
        "GIGBRIDGE_GRAPH_CA_BUNDLE": info["ca_cert"],
        "GIGBRIDGE_GRAPH_MAIL_SENDER": "ada@contoso.example",
        "GIGBRIDGE_OIDC_AUTHORITY": authority,
        "GIGBRIDGE_OIDC_CLIENT_ID": info["sign_in"]["client_id"],
        "GIGBRIDGE_OIDC_CLIENT_SECRET": info["sign_in"]["client_secret"],
        "GIGBRIDGE_OIDC_CA_BUNDLE": info["ca_cert"],
        **quarantine_env(info),
        **hub_env(info),
    }


def hub_env(info: dict) -> dict[str, str]:
    """The program hub is published to the sandbox's "Contoso Intranet" site (empty for a
    sandbox older than that site)."""
    site = info.get("hub_site_id")
    return {"GIGBRIDGE_HUB_SITE_ID": site} if site else {}


def quarantine_env(info: dict) -> dict[str, str]:
    """Quarantined deliverables go to the sandbox's "Security Review" group's library (empty
    for a sandbox older than that group)."""
    group = info.get("quarantine_group_id")
    return {"GIGBRIDGE_QUARANTINE_GROUP_ID": group} if group else {}


def marketplace_env(info: dict) -> dict[str, str]:
    """Upwork settings pointing at the sandbox marketplace: the app's own key (client
    credentials), so the demo needs no connect step; the organization is the sandbox's default."""
    upwork = info["upwork"]
    return {
        "GIGBRIDGE_UPWORK_CLIENT_ID": upwork["client_id"],
        "GIGBRIDGE_UPWORK_CLIENT_SECRET": upwork["client_secret"],
        "GIGBRIDGE_UPWORK_GRANT": "client_credentials",
        "GIGBRIDGE_UPWORK_AUTHORIZE_URL": upwork["authorize_url"],
        "GIGBRIDGE_UPWORK_TOKEN_URL": upwork["token_url"],
        "GIGBRIDGE_UPWORK_GRAPHQL_URL": upwork["graphql_url"],
        "GIGBRIDGE_UPWORK_ORGANIZATION_ID": upwork["default_tenant_id"],
        "GIGBRIDGE_UPWORK_CA_BUNDLE": info["ca_cert"],
    }


def teams_env(info: dict) -> dict[str, str]:
    """The Gigbridge bot's settings pointing at the sandbox's Bot Connector: its app id and secret
    in the sandbox tenant, tokens from the sandbox's Entra ID, inbound JWTs checked against the
    sandbox's Bot Framework keys (its OpenID metadata), CA trusted exactly. Empty when the
    sandbox has no Teams."""
    teams = info.get("teams")
    if not teams:
        return {}
    host = info["authority"].removeprefix("https://").rsplit("/", 1)[0]
    return {
        "GIGBRIDGE_TEAMS_APP_ID": teams["app_id"],
        "GIGBRIDGE_TEAMS_APP_PASSWORD": teams["app_password"],
        "GIGBRIDGE_TEAMS_TENANT_ID": teams["tenant_id"],
        "GIGBRIDGE_TEAMS_AUTHORITY_HOST": host,
        "GIGBRIDGE_TEAMS_OPENID_METADATA": teams["openid_metadata"],
        "GIGBRIDGE_TEAMS_SERVICE_URL": teams["service_url"],
        "GIGBRIDGE_TEAMS_CA_BUNDLE": info["ca_cert"],
    }


def world_clock_env(info: dict) -> dict[str, str]:
    """The product's clock follows the sandbox's (one world time): only when both the tenant and
    the marketplace are the sandbox's, since a real marketplace's hours carry real dates."""
    return {"GIGBRIDGE_WORLD_CLOCK_FILE": info["world_clock_file"]}
