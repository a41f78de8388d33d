"""`gigbridge policy check FILE`: validate a program policy file before it is used.

Meant for program managers and CI alike, so it needs no database: problems are printed one
per line as FILE:LINE:COLUMN: path: message, which editors and CI systems can annotate.
"""

import sys

from django.core.management.base import BaseCommand, CommandParser

from gigbridge.program.policy import PolicyError, load_policy_file


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


class Command(BaseCommand):
    help = "Work with program policy files."

    # A policy check must work before the database exists (e.g. in CI or on a laptop).
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        check = actions.add_parser(
            "check",
            help="Report every problem in a policy file; exit status 1 if there are any.",
        )
        check.add_argument("file", metavar="FILE", help="path to the policy YAML file")

    def handle(self, *args: object, **options: object) -> None:
        if options["action"] == "check":
            self._check(str(options["file"]))

    def _check(self, filename: str) -> None:
        try:
            policy = load_policy_file(filename)
        except PolicyError as error:
            for problem in error.problems:
                self.stderr.write(str(problem))
            self.stderr.write(f"{len(error.problems)} problem(s) found in {filename}")
            # SystemExit rather than CommandError: CommandError would add its own "Error:"
            # line and change the output people and CI scripts rely on.
            sys.exit(1)
        centers = _count(len(policy.cost_centers), "cost center")
        rules = _count(len(policy.approvals.rules), "approval rule")
        self.stdout.write(f"OK: {filename} is a valid policy ({centers}, {rules})")
