"""`govcrm open311 add-client NAME` prints a new api_key (once); `list`; `deactivate NAME`."""

from django.core.management.base import BaseCommand, CommandError

from govcrm.channels.open311.actions import open311_client_create, open311_client_deactivate
from govcrm.channels.open311.models import Open311Client
from govcrm.common.errors import ValidationFailed


class Command(BaseCommand):
    help = "Manage the clients allowed to POST to the Open311 endpoint (/open311/v2/)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="op", required=True)
        add = sub.add_parser("add-client", help="create a client and print its api_key (shown only this once)")
        add.add_argument("name")
        sub.add_parser("list", help="list the clients")
        off = sub.add_parser("deactivate", help="refuse the api_key of client NAME from now on")
        off.add_argument("name")

    def handle(self, *args, **opts):
        if opts["op"] == "add-client":
            try:
                _client, key = open311_client_create(name=opts["name"])
            except ValidationFailed as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(key)
        elif opts["op"] == "list":
            for c in Open311Client.objects.order_by("name"):
                self.stdout.write(f"{c.name}\t{c.key_prefix}…\t{'active' if c.active else 'inactive'}\t"
                                  f"{c.created:%Y-%m-%d}")
        elif not open311_client_deactivate(name=opts["name"]):
            raise CommandError(f"No active client {opts['name']!r}")
