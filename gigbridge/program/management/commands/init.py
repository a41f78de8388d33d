"""`gigbridge init`: prepare an installation and define its program (docs/setup.md).

- an existing policy file is activated (safe to run again);
- in a terminal, with no policy yet, the set-up wizard asks its questions;
- ``--answers FILE`` answers them from a YAML or JSON file, with no questions;
- ``--demo`` installs the example policy and demo people (what `make run` uses);
- otherwise (a script, a container) the program stays undefined: the first admin defines it in
  the web's set-up wizard, with the one-time set-up code printed here.
"""

import shutil
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from gigbridge.locks import locked
from gigbridge.program import wizard, wizard_cli, wizard_code
from gigbridge.program.actions import activate_policy, activate_policy_file
from gigbridge.program.policy import PolicyError


class Command(BaseCommand):
    help = (
        "Prepare an installation: migrate the database and define the program policy (asking "
        "the set-up questions in a terminal, or from --answers FILE); --demo installs the "
        "example policy and demo people. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="load demo people on first run")
        parser.add_argument(
            "--answers",
            metavar="FILE",
            help="answer the set-up questions from a YAML or JSON file (examples/answers.yaml)",
        )
        parser.add_argument("--force", action="store_true", help="replace an existing policy file")
        parser.add_argument(
            "--interactive",
            action="store_true",
            help="ask the questions even when standard input is not a terminal",
        )

    def handle(self, *args, **options):
        if options["demo"] and options["answers"]:
            self.stderr.write("--demo and --answers exclude each other: choose one")
            raise SystemExit(2)
        answers = None
        if options["answers"]:
            # Checked before anything is migrated or written: a bad file changes nothing.
            try:
                answers = wizard.read_answers_file(options["answers"])
            except wizard.AnswersError as error:
                for path, message in error.problems:
                    self.stderr.write(f"{options['answers']}: {path or '(answers)'}: {message}")
                self.stderr.write(f"{len(error.problems)} problem(s) in {options['answers']}")
                raise SystemExit(2) from None
        # Two `init`s at once (a script, replicas sharing the data folder): one migrates and
        # loads, the other waits and finds it done. Across machines on PostgreSQL, run one.
        with locked(settings.DATA_DIR / ".migrate.lock"):
            call_command("migrate", interactive=False, verbosity=0)
            if options["demo"]:
                self.demo()
                return
            policy_file = settings.POLICY_FILE
            if answers is None and policy_file.exists() and not options["force"]:
                self.activate_file(policy_file)
                return
            if answers is None and (options["interactive"] or sys.stdin.isatty()):
                answers = self.ask()
            if answers is None:
                self.not_defined(policy_file)
                return
            self.define(answers, policy_file, force=options["force"])

    def demo(self):
        policy_file = settings.POLICY_FILE
        if not policy_file.exists():
            example = settings.PROJECT_DIR / "examples" / "program.yaml"
            policy_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(example, policy_file)
            self.stdout.write(f"installed the example policy at {policy_file}")
        self.activate_file(policy_file)
        from gigbridge.people import demo

        password = demo.ensure_password(settings.DATA_DIR)
        created_users = demo.load(password)
        if created_users:
            self.stdout.write(f"demo people loaded: {', '.join(created_users)}")

    def activate_file(self, policy_file):
        try:
            version, created = activate_policy_file(policy_file, actor="gigbridge init")
        except PolicyError as exc:
            self.stderr.write(f"the program policy {policy_file} is invalid:\n{exc}")
            raise SystemExit(1) from None
        if created:
            self.stdout.write(f"policy v{version.number} activated from {policy_file}")

    def ask(self):
        term = wizard_cli.Terminal(sys.stdin, self.stdout)
        try:
            answers = wizard_cli.ask(term)
            term.say("")
            for line in wizard_cli.summary(answers):
                term.say(line)
            term.say("")
            if not term.ask(
                "Write this policy and start the program? (y/n)", wizard_cli.yes_no, "y"
            ):
                self.stdout.write("nothing written; run `gigbridge init` again to start over")
                raise SystemExit(1)
        except (wizard_cli.Aborted, KeyboardInterrupt) as stop:
            self.stderr.write(f"\nstopped: {stop or 'interrupted'}; nothing was written")
            raise SystemExit(1) from None
        return answers

    def define(self, answers, policy_file, *, force):
        if policy_file.exists() and not force:
            self.stderr.write(
                f"a policy already exists at {policy_file}: it was not replaced "
                "(add --force to replace it; the old versions stay in the database)"
            )
            raise SystemExit(1)
        text, _ = wizard.policy_from_answers(answers)
        try:
            wizard.write_policy_file(policy_file, text, force=force)
        except FileExistsError:
            self.stderr.write(f"a policy appeared at {policy_file} meanwhile: not replaced")
            raise SystemExit(1) from None
        version, created = activate_policy(text, str(policy_file), actor="gigbridge init")
        self.stdout.write(f"wrote the program policy to {policy_file}")
        if created:
            self.stdout.write(f"policy v{version.number} activated: {answers.program_name}")
        if not get_user_model().objects.exists():
            self.stdout.write(
                "No one can sign in yet: import people with their roles "
                "(`gigbridge people import FILE.csv`, docs/setup.md) or turn on Microsoft sign-in."
            )

    def not_defined(self, policy_file):
        self.stdout.write(f"The program is not defined yet (no policy at {policy_file}).")
        self.stdout.write(
            "Define it in the web: start Gigbridge (`gigbridge up` or `gigbridge web`) and open "
            "/setup/; or run `gigbridge init --answers FILE` (see examples/answers.yaml)."
        )
        if get_user_model().objects.exists():
            self.stdout.write("A program admin signs in and opens /setup/.")
            return
        code, _ = wizard_code.ensure_code(settings.DATA_DIR)
        self.stdout.write(
            f"The web asks the first admin for this one-time set-up code: {code}\n"
            f"(also in {wizard_code.code_file(settings.DATA_DIR)}, readable by you only)"
        )
