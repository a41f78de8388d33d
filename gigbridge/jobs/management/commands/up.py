"""Run web, worker and scheduler together (the embedded default); stop all if one stops.

With the sandbox when no real tenant is configured, and with our own clamd (``gigbridge clamd``)
when no scanner is configured (GIGBRIDGE_CLAMD_ADDRESS) and Debian's clamav-daemon is installed.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from gigbridge.clock import WORLD_VARIABLE
from gigbridge.startup import check_or_exit, setup_notice


class Command(BaseCommand):
    help = "Run the whole product: web, worker and scheduler, until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("GIGBRIDGE_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--sandbox-port",
            type=int,
            default=int(os.environ.get("GIGBRIDGE_SANDBOX_PORT", "8443")),
        )
        parser.add_argument(
            "--no-clamd",
            action="store_true",
            help="do not start our own clamd (default: start it unless GIGBRIDGE_CLAMD_ADDRESS "
            "names a scanner, or clamd is not installed)",
        )
        parser.add_argument(
            "--no-sandbox",
            action="store_true",
            help="do not start the sandbox tenant (default: start it unless a "
            "real tenant is configured with GIGBRIDGE_GRAPH_TENANT_ID)",
        )

    def handle(self, *args, **options):
        # With no program yet the web offers the set-up wizard; worker and scheduler wait.
        defined = check_or_exit(self.stderr)
        gigbridge = [sys.executable, "-m", "gigbridge.cli"]
        parts = {
            "web": gigbridge + ["web", "--host", options["host"], "--port", str(options["port"])],
            "worker": gigbridge + ["worker"],
            "scheduler": gigbridge + ["scheduler"],
        }
        url = f"http://{options['host']}:{options['port']}/"
        # Links in mails must point where this instance listens unless the operator said otherwise.
        env = {**os.environ, "GIGBRIDGE_BASE_URL": os.environ.get("GIGBRIDGE_BASE_URL", url)}
        # Wall time unless the whole outside world is the sandbox's (then its clock is ours).
        env.pop(WORLD_VARIABLE, None)
        sandbox = not options["no_sandbox"] and not os.environ.get("GIGBRIDGE_GRAPH_TENANT_ID")
        if sandbox:
            from gigbridge.sandbox.connect import (
                marketplace_env,
                product_env,
                sandbox_info,
                teams_env,
                world_clock_env,
            )

            port = str(options["sandbox_port"])
            parts["sandbox"] = [sys.executable, "-m", "gigbridge.sandbox", "run", "--port", port]
            info = sandbox_info(options["sandbox_port"])
            env.update(product_env(info))
            if info.get("teams") and not os.environ.get("GIGBRIDGE_TEAMS_APP_ID"):
                # The sandbox's Teams talks to this instance's bot (a real bot wins).
                env.update(teams_env(info))
                bot_endpoint = f"{url}hooks/teams"
                sandbox = parts["sandbox"]
                parts["sandbox"] = [*sandbox[:3], "--bot-endpoint", bot_endpoint, *sandbox[3:]]
            if not os.environ.get("GIGBRIDGE_UPWORK_CLIENT_ID"):  # a real marketplace wins
                env.update(marketplace_env(info))
                env.update(world_clock_env(info))  # one world time: the sandbox's clock
        scanner = self.scanner(parts, env, gigbridge, skip=options["no_clamd"])
        children = {name: subprocess.Popen(cmd, env=env) for name, cmd in parts.items()}
        self.stdout.write(self.style.SUCCESS(f"\nGigbridge is running at {url}"))
        creds = settings.DATA_DIR / "demo-credentials.txt"
        if creds.exists():
            self.stdout.write(f"Sign in with a demo account; names and password are in {creds}:")
            self.stdout.write("  " + creds.read_text().strip().replace("\n", "\n  "))
        if sandbox:
            self.stdout.write(
                f"Sandbox tenant (Entra ID, Graph) at {info['viewer_url']}; "
                "Outlook mail lands there. 'Sign in with Microsoft' uses it too; "
                f"the sandbox marketplace (Upwork) is at {info['upwork']['viewer_url']}."
            )
            if WORLD_VARIABLE in env:
                self.stdout.write(
                    "One world time: Gigbridge's clock follows the sandbox clock. Move it "
                    "forward with the viewer's clock buttons; sign in to the sandbox tools with\n"
                    f"  client id: {info['client_id']}\n"
                    f"  client secret: {info['client_secret']}\n"
                    "  (the local sandbox's own credentials; `gigbridge sandbox info` prints "
                    "them again)"
                )
        else:
            self.stdout.write(f"Mail goes to {settings.EMAIL_FILE_PATH}.")
        self.stdout.write(scanner)
        for line in setup_notice(url) if defined is False else []:
            self.stdout.write(self.style.WARNING(line))
        self.stdout.write("Press Ctrl+C to stop.\n")
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    self.stderr.write(
                        f"{name} stopped with exit code {child.returncode}; stopping everything"
                    )
                    exit_code, stopping = child.returncode or 1, True
                    break
            time.sleep(0.5)
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(exit_code)

    def scanner(self, parts: dict, env: dict, gigbridge: list[str], *, skip: bool) -> str:
        """Add our own clamd to ``parts`` unless a scanner is configured; -> what to tell."""
        from gigbridge.integrations.clamav import daemon

        configured = settings.CLAMAV.get("address")
        if configured:
            return f"Virus scanner: clamd at {configured}."
        if skip:
            return "Virus scanner: none (--no-clamd): deliverables are not scanned."
        if not daemon.installed():
            return (
                "Virus scanner: none: clamd is not installed (run `make clamav`, or set "
                "GIGBRIDGE_CLAMD_ADDRESS); deliverables are not scanned."
            )
        try:
            paths = daemon.locate(settings.DATA_DIR)  # `gigbridge clamd` prepares the folder
        except daemon.DaemonError as exc:
            return f"Virus scanner: none: {exc}"
        parts["clamd"] = gigbridge + ["clamd"]
        env["GIGBRIDGE_CLAMD_ADDRESS"] = paths.address
        return (
            f"Virus scanner: our own clamd at {paths.address}, with test signatures only "
            "(EICAR); docs/scanning.md says how to use a clamd kept fresh by freshclam."
        )
