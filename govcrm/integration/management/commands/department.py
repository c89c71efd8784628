"""Department systems' access: a unit's system account with a token limited to the unit's subtree.

    govcrm department token UNIT [--role handler|manager] [--username NAME] [--expires-days D]

Prints the token once. The account (`system-<unit>` unless named) is made on first use, without a
password; it may list, read, accept, update and reply to the unit's cases through /api/v1/ (scopes
cases:read, cases:write, reference:read). Revoke with `govcrm token revoke PREFIX`. See
docs/integration.md.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from govcrm.common.errors import DomainError
from govcrm.integration.actions import department_token_create


class Command(BaseCommand):
    help = "Give a department system its unit-scoped API token."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="op", required=True)
        token = sub.add_parser("token", help="print a new unit-scoped token for UNIT's system account")
        token.add_argument("unit", help="the unit's code")
        token.add_argument("--role", default="handler", choices=("handler", "manager"),
                           help="manager: may also dispatch down to units below (default: handler)")
        token.add_argument("--username", default=None, help="the account (default: system-<unit>)")
        token.add_argument("--name", default="", help="what the token is for")
        token.add_argument("--expires-days", type=int, default=None, help="days until the token expires")

    def handle(self, *args, **opts):
        days = opts["expires_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-days must be at least 1")
        try:
            username, token = department_token_create(
                unit_code=opts["unit"], role=opts["role"], username=opts["username"], name=opts["name"],
                expires_at=timezone.now() + dt.timedelta(days=days) if days else None)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"account {username}, unit {opts['unit']}")
        self.stdout.write(token)
