"""``gigbridge sandbox [--bot-endpoint URL] [run | info [--json]]``, also ``python -m
gigbridge.sandbox …``.

``info`` prints what an outside client needs (``server.info``): endpoints, credentials, the CA,
the sandbox clock now and how to move it, and the tools' URLs.
"""

from __future__ import annotations

import argparse
import json
import sys

from gigbridge.config import ConfigError

from . import server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="gigbridge sandbox", description="The sandbox tenant on loopback HTTPS."
    )
    parser.add_argument(
        "--bot-endpoint",
        metavar="URL",
        help="set the Gigbridge bot's messaging endpoint (where the sandbox's Teams sends "
        "activities; like an Azure Bot's), then run the command, if any",
    )
    # For --bot-endpoint alone (the commands take their own --host/--port after their name).
    parser.add_argument("--host", dest="main_host", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--port", dest="main_port", type=int, default=None, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="serve the sandbox until interrupted")
    run.add_argument("--workers", type=int, default=2)
    info = commands.add_parser(
        "info", help="print the authority, endpoints, credentials, the clock and the tools' URLs"
    )
    info.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    for sub in (run, info):
        sub.add_argument("--host", default=None, help="loopback address (default 127.0.0.1)")
        sub.add_argument("--port", type=int, default=None, help="port (default 8443)")
    args = parser.parse_args(argv)
    if args.command is None and not args.bot_endpoint:
        parser.error("a command is required (run or info), or --bot-endpoint URL")
    try:
        host = getattr(args, "host", None) or args.main_host or server.default_host()
        port = getattr(args, "port", None) or args.main_port or server.default_port()
        if args.bot_endpoint:
            try:
                endpoint = server.set_bot_endpoint(host, port, args.bot_endpoint)
            except ValueError as exc:
                raise ConfigError(f"--bot-endpoint: {exc}") from None
            if args.command is None:
                print(f"messaging_endpoint: {endpoint}")
                return
        if args.command == "run":
            server.run(host, port, workers=args.workers)
            return
        details = server.info(host, port)
    except ConfigError as exc:
        print(f"gigbridge sandbox: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if args.json:
        print(json.dumps(details, indent=2))
    else:
        for key, value in details.items():
            print(f"{key}: {value}")
