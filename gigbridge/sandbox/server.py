"""Running the sandbox: certificates, database, seed data, then gunicorn over HTTPS on loopback."""

from __future__ import annotations

import os
import sys

from gigbridge import config
from gigbridge.locks import locked

from . import ca
from .defaults import DOMAIN, OUTSIDE_TOOLS, SIGN_IN_APP
from .paths import sandbox_dir

SETTINGS = "gigbridge.sandbox.settings"
# The user picker signs anyone in without a password: it must never listen on a network.
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def default_host() -> str:
    return config.env("GIGBRIDGE_SANDBOX_HOST", "127.0.0.1") or "127.0.0.1"


def default_port() -> int:
    return config.env_int("GIGBRIDGE_SANDBOX_PORT", 8443)


def base_url(host: str, port: int) -> str:
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


def prepare(host: str, port: int) -> ca.Paths:
    """Certificates, migrated database and seed data; idempotent. Sets up Django for the sandbox."""
    if host not in LOOPBACK:
        raise config.ConfigError(
            f"the sandbox serves on loopback only ({', '.join(sorted(LOOPBACK))}), not {host!r}"
        )
    # Assigned, not defaulted: the product's CLI may already have put its own module there.
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ["GIGBRIDGE_SANDBOX_URL"] = base_url(host, port)
    paths = ca.ensure(sandbox_dir())

    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    if settings.SETTINGS_MODULE != SETTINGS:
        raise RuntimeError(f"Django is already set up with {settings.SETTINGS_MODULE}")
    from .seed import seed

    # `run` and `info` started together would both migrate (one failing on "table already
    # exists") and both seed: one at a time; the second finds the work done.
    with locked(sandbox_dir() / ".migrate.lock"):
        call_command("migrate", interactive=False, verbosity=0)
        seed()
    from . import worldtime
    from .m365files import clock

    # The product's processes start after this (``gigbridge up``): the file they follow exists.
    worldtime.publish(clock.offset())
    return paths


def run(host: str = "127.0.0.1", port: int = 8443, workers: int = 2) -> None:
    """Prepare, then replace this process with gunicorn serving the sandbox over HTTPS."""
    paths = prepare(host, port)
    from django.db import connections

    connections.close_all()  # exec keeps open file descriptors; the database must not be one
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    os.execvp(
        sys.executable,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "gigbridge.sandbox.wsgi:application",
            "--bind",
            bind,
            "--certfile",
            str(paths.server_cert),
            "--keyfile",
            str(paths.server_key),
            "--workers",
            str(workers),
            # gunicorn's control socket defaults to one path per user (~/.gunicorn): a second
            # gunicorn on the machine (the product's web) would take it over. Nothing uses it.
            "--no-control-socket",
            "--graceful-timeout",
            "5",
            "--access-logfile",
            "-",
            # No query strings in the log: authorize requests carry state, nonce and challenges.
            "--access-logformat",
            'sandbox %(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms',
        ],
    )


def info(host: str = "127.0.0.1", port: int = 8443) -> dict:
    """What a client needs to use the sandbox (``gigbridge sandbox info --json``).

    Prepares the sandbox too, so it answers the same before the first ``run`` as after it,
    except ``clock``, which says where the running sandbox clock stands now.
    """
    paths = prepare(host, port)
    from . import worldtime
    from .models import AppRegistration, Tenant
    from .seed import app_secret

    url = base_url(host, port)
    tenant = Tenant.objects.get(domain=DOMAIN)
    tools = AppRegistration.objects.get(tenant=tenant, display_name=OUTSIDE_TOOLS)
    sign_in = AppRegistration.objects.get(tenant=tenant, display_name=SIGN_IN_APP)
    return {
        "authority": f"{url}/{tenant.id}",
        "graph_base_url": f"{url}/v1.0",
        "marketplace_base_url": f"{url}/upwork",  # details under "upwork"
        "tenant_id": str(tenant.id),
        "tenant_domain": tenant.domain,
        "client_id": str(tools.client_id),
        "client_secret": app_secret(OUTSIDE_TOOLS),
        "ca_cert": str(paths.ca_cert),
        "viewer_url": f"{url}/",
        # The sandbox's clock for the product to follow (gigbridge.worldclock).
        "world_clock_file": str(worldtime.path()),
        "clock": clock_info(url),
        "tools": tools_info(url),
        "sign_in": {
            "client_id": str(sign_in.client_id),
            "client_secret": app_secret(SIGN_IN_APP),
            "redirect_uris": sign_in.redirect_uris,
        },
        "upwork": upwork_info(url),
        "teams": teams_info(url, tenant),
        # The group whose library takes quarantined deliverables (GIGBRIDGE_QUARANTINE_GROUP_ID).
        "quarantine_group_id": quarantine_group_id(tenant),
        # The communication site the program hub is published to (GIGBRIDGE_HUB_SITE_ID).
        "hub_site_id": hub_site_id(),
    }


def hub_site_id() -> str | None:
    from .sites.models import Site
    from .sites.seed import INTRANET

    site = Site.objects.filter(name=INTRANET[0]).first()
    return site.graph_id if site else None


def quarantine_group_id(tenant) -> str | None:
    from .defaults import SECURITY_REVIEW
    from .models import GraphGroup

    group = GraphGroup.objects.filter(tenant=tenant, mail_nickname=SECURITY_REVIEW[1]).first()
    return str(group.id) if group else None


# How the clock moves: what a script or a person needs without reading the docs first.
CLOCK_MOVES = (
    'POST clock.url one of {"advance_seconds": n}, {"offset_seconds": n} or {"now": "ISO 8601 '
    'with Z or an offset"} (HTTP Basic: client_id and client_secret, the outside-tools app); '
    "the viewers' form (tools.viewer_clock_url, after tools.viewer_sign_in_url) moves it "
    "forward only. The simulated freelancers act on it: they do what became due on the next "
    "marketplace request or tools.marketplace.tick_url."
)


def clock_info(url: str) -> dict:
    """The sandbox's clock, which the marketplace and the tenant both keep: where it stands now
    (``now``, ``offset_seconds``, ``world_offset_seconds``: what the product follows, forward
    only) and how to move it."""
    from django.urls import reverse

    from .m365files import clock

    return {
        **clock.describe(),
        "url": url + reverse("files-clock"),
        "move": CLOCK_MOVES,
    }


def tools_info(url: str) -> dict:
    """The sandbox's tools: the viewers' sign-in and clock form, the tenant's and the
    marketplace's ``/_sandbox/`` endpoints (the simulated freelancers' controls among them).
    Every one takes the outside-tools app's ``client_id`` and ``client_secret``."""
    from django.urls import reverse

    def at(name: str) -> str:
        return url + reverse(name)

    return {
        "auth": "HTTP Basic with client_id and client_secret (the outside-tools app); the "
        "viewers' forms take them once at viewer_sign_in_url",
        "viewer_sign_in_url": at("viewer-sign-in"),
        "viewer_sign_out_url": at("viewer-sign-out"),
        "viewer_clock_url": at("viewer-clock"),
        "clock_url": at("files-clock"),
        "graph": {
            "control_url": at("graph-control"),
            "mail_url": at("graph-mail"),
            "invitations_url": at("graph-invitations"),
        },
        "files": {
            # POST ?as=<email>&group=<id>|drive=<id>&path=<a/b>&name=<file>, body = the bytes.
            "upload_url": at("files-tool-upload"),
            # GET ?as=<email>&item=<id> (or group|drive and path): {"reachable", "why", ...}.
            "reach_url": at("files-tool-reach"),
            # POST {"driveId"}: every delta token of that drive so far answers 410.
            "expire_delta_url": at("files-delta-expire"),
            "viewer_url": at("files-viewer"),
        },
        "teams": {
            # GET or POST {"messaging_endpoint": url}: where the Bot Connector sends activities.
            "endpoint_url": at("botframework-endpoint"),
        },
        "marketplace": {
            "control_url": at("upwork-control"),
            "tick_url": at("upwork-tick"),
            "act_url": at("upwork-act"),
            "freelancers_url": at("upwork-freelancers"),
            "bulk_contracts_url": at("upwork-bulk"),
        },
    }


def teams_info(url: str, tenant) -> dict:
    """The sandbox's Teams: the bot's registration, the Bot Connector and the Teams view."""
    from .botconnector import delivery
    from .botconnector.defaults import BOT_APP, TOKEN_SCOPE
    from .models import AppRegistration
    from .seed import app_secret

    bot = AppRegistration.objects.get(tenant=tenant, display_name=BOT_APP)
    return {
        "app_id": str(bot.client_id),
        "app_password": app_secret(BOT_APP),
        "tenant_id": str(tenant.id),
        "service_url": f"{url}/botframework/teams/",
        "openid_metadata": f"{url}/botframework/v1/.well-known/openidconfiguration",
        "token_scope": TOKEN_SCOPE,
        "messaging_endpoint": delivery.messaging_endpoint(),
        "viewer_url": f"{url}/teams/",
    }


def set_bot_endpoint(host: str, port: int, endpoint: str) -> str:
    """Set the bot's messaging endpoint (``gigbridge sandbox --bot-endpoint URL``)."""
    prepare(host, port)
    from django.db import transaction

    from .botconnector import delivery

    with transaction.atomic():
        return delivery.set_messaging_endpoint(endpoint)


def upwork_info(url: str) -> dict:
    """The Upwork marketplace emulator: endpoints, Gigbridge's app, organizations, the user."""
    from .upwork import defaults as upwork
    from .upwork.models import App
    from .upwork.seed import app_secret as upwork_secret

    main = App.objects.get(name=upwork.MAIN_APP)
    read_only = App.objects.get(name=upwork.READ_ONLY_APP)
    base = f"{url}/upwork"
    return {
        # Upwork's own clients join their paths to one host (python-upwork-oauth2's
        # upwork.upwork.BASE_HOST): this one, plus graphql_url for its GQL_EPOINT.
        "base_host": base,
        "authorize_url": f"{base}/ab/account-security/oauth2/authorize",
        "token_url": f"{base}/api/v3/oauth2/token",
        "graphql_url": f"{base}/graphql",
        "viewer_url": f"{base}/",
        "tools_url": f"{base}/_sandbox",
        "client_id": main.client_id,
        "client_secret": upwork_secret(upwork.MAIN_APP),
        "redirect_uris": main.redirect_uris,
        "read_only_client": {
            "client_id": read_only.client_id,
            "client_secret": upwork_secret(upwork.READ_ONLY_APP),
        },
        "organizations": [{"id": org_id, "name": name} for org_id, name in upwork.ORGANIZATIONS],
        "tenant_ids": [org_id for org_id, _ in upwork.ORGANIZATIONS],
        "default_tenant_id": upwork.ENGINEERING,
        "user": upwork.PICK_USER,
        "blocked_country_freelancer": upwork.BLOCKED_COUNTRY_FREELANCER,
    }
