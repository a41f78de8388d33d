import os
import sys

from django.core.management.base import BaseCommand

from gigbridge.startup import check_or_exit, setup_notice


class Command(BaseCommand):
    help = "Serve the web UI, API and webhooks with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("GIGBRIDGE_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )

    def handle(self, *args, **options):
        # With no program yet the web starts and offers the set-up wizard (docs/setup.md).
        if check_or_exit(self.stderr) is False:
            for line in setup_notice(f"http://{options['host']}:{options['port']}/"):
                self.stdout.write(line)
        bind = f"{options['host']}:{options['port']}"
        os.execvp(
            sys.executable,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "gigbridge.wsgi:application",
                "--bind",
                bind,
                "--workers",
                str(options["workers"]),
                # gunicorn's own refusals (414 over-long URL, 400 bad request line) as
                # problem+json, like every other error of the API.
                "--worker-class",
                "gigbridge.gunicorn_worker.ProblemWorker",
                "--access-logfile",
                "-",
                "--no-control-socket",
                "--graceful-timeout",
                "10",
                # The access log line: no query strings, so tokens in links never reach the logs.
                "--access-logformat",
                '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms',
            ],
        )
