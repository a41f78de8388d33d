from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from gigbridge.people.actions import create_api_token


class Command(BaseCommand):
    help = (
        "API tokens. `token create USERNAME NAME` prints a new token once; only its hash is kept."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        create = sub.add_parser("create")
        create.add_argument("username")
        create.add_argument("name")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user named {options['username']!r}")
        _, secret = create_api_token(user, options["name"])
        self.stdout.write(secret)
