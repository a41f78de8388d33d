import shutil

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from gigbridge.locks import locked
from gigbridge.program.actions import activate_policy_file
from gigbridge.program.policy import PolicyError


class Command(BaseCommand):
    help = (
        "Prepare an installation: migrate the database, install the example policy when none "
        "is configured, and (with --demo) load demo people. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="load demo people on first run")

    def handle(self, *args, **options):
        # Two `init`s at once (a script, replicas sharing the data folder): one migrates and
        # loads, the other waits and finds it done. Across machines on PostgreSQL, run one.
        with locked(settings.DATA_DIR / ".migrate.lock"):
            self.prepare(options)

    def prepare(self, options):
        call_command("migrate", interactive=False, verbosity=0)
        policy_file = settings.POLICY_FILE
        if not policy_file.exists():
            example = settings.PROJECT_DIR / "examples" / "program.yaml"
            policy_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(example, policy_file)
            self.stdout.write(f"installed the example policy at {policy_file}")
        try:
            version, created = activate_policy_file(policy_file, actor="gigbridge init")
        except PolicyError as exc:
            self.stderr.write(f"the program policy {policy_file} is invalid:\n{exc}")
            raise SystemExit(1) from None
        if created:
            self.stdout.write(f"policy v{version.number} activated from {policy_file}")
        if options["demo"]:
            from gigbridge.people import demo

            password = demo.ensure_password(settings.DATA_DIR)
            created_users = demo.load(password)
            if created_users:
                self.stdout.write(f"demo people loaded: {', '.join(created_users)}")
