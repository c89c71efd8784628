"""`govcrm token create USERNAME [--name N]` prints a new bearer token; `govcrm token revoke PREFIX`."""

from django.core.management.base import BaseCommand, CommandError

from govcrm.common.errors import NotFound
from govcrm.organization.actions import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Create or revoke REST API bearer tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="op", required=True)
        create = sub.add_parser("create", help="print a new token for USERNAME")
        create.add_argument("username")
        create.add_argument("--name", default="")
        revoke = sub.add_parser("revoke", help="revoke the tokens starting with PREFIX")
        revoke.add_argument("prefix")

    def handle(self, *args, **opts):
        if opts["op"] == "create":
            try:
                token = api_token_create(username=opts["username"], name=opts["name"])
            except NotFound as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(token)
        else:
            n = api_token_revoke(prefix=opts["prefix"])
            self.stdout.write(f"revoked {n}")
