import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from gigbridge.people.importer import PeopleImportError, import_file


class Command(BaseCommand):
    help = "People tools. `people import FILE.csv` creates or updates people, managers and roles."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        importer = sub.add_parser(
            "import",
            help="columns: email, first_name, last_name, kind, "
            "country, manager_email, username, roles (';'-separated)",
        )
        importer.add_argument("file", type=Path)

    def handle(self, *args, **options):
        try:
            counts = import_file(options["file"], actor="gigbridge people import")
        except PeopleImportError as exc:
            self.stderr.write(str(exc))
            self.stderr.write(f"{len(exc.problems)} problem(s); nothing was imported")
            sys.exit(1)
        except OSError as exc:
            self.stderr.write(f"cannot read {options['file']}: {exc.strerror}")
            sys.exit(1)
        self.stdout.write(
            "imported: {created} new, {updated} updated, {accounts} new accounts, "
            "{agreements} agreements recorded".format(**counts)
        )
