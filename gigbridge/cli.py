"""The ``gigbridge`` command: Django's management commands under the product's name.

gigbridge up | web | worker | scheduler      run the service (all together, or one part)
gigbridge init [--demo | --answers FILE]     migrate; define the program (docs/setup.md)
gigbridge policy check FILE                  validate a policy file
gigbridge audit verify                       check the audit chain and its checkpoints
gigbridge audit checkpoint                   write a signed checkpoint of the chain now
gigbridge token create USERNAME NAME         make an API token
gigbridge teams package [--out FILE]         write the Teams app package (docs/teams.md)
gigbridge analytics rebuild | check         recompute the analytics / prove them (docs/analytics.md)
"""

from __future__ import annotations

import os
import sys

from gigbridge.filemodes import PRIVATE_UMASK


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything the product writes (SQLite database and its -wal/-shm, keys, mail, the
    # sandbox's CA) is its owner's only; child processes (gunicorn, workers) inherit this.
    os.umask(PRIVATE_UMASK)
    if argv[:1] == ["sandbox"]:
        # The sandbox is its own Django project (own settings and database): dispatch before
        # the product's settings module is chosen.
        from gigbridge.sandbox.command import main as sandbox_main

        sandbox_main(argv[1:])
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gigbridge.settings")
    from gigbridge.config import ConfigError

    try:
        from django.core.management import execute_from_command_line

        if not argv or argv[0] in {"-h", "--help", "help"} and len(argv) == 1:
            print(__doc__)
            argv = ["help"]
        execute_from_command_line(["gigbridge", *argv])
    except ConfigError as exc:
        print(f"gigbridge: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
