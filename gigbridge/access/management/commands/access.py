from django.core.management.base import BaseCommand

from gigbridge.access.review import render, review
from gigbridge.integrations.msgraph import connection


class Command(BaseCommand):
    help = "Access tools. `access review` lists every guest's access, why and until when; drift."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        rev = sub.add_parser("review", help="print the access review")
        rev.add_argument("--format", choices=["json", "csv"], default="csv")

    def handle(self, *args, **options):
        client = connection.client() if connection.configured() else None
        if client is None:
            self.stderr.write("no tenant connected: showing Gigbridge's records only (no drift)")
        self.stdout.write(render(review(client), options["format"]))
