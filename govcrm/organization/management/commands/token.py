"""REST API bearer tokens.

    govcrm token create USERNAME [--name N] [--scope cases:read ...] [--expires-days D] [--unit CODE]
    govcrm token list [--all]
    govcrm token revoke PREFIX

`create` prints the token once (only its SHA-256 is kept). Without `--scope` the token gets
every scope; name the scopes a system needs instead (see docs/security.md). `--unit` limits the
token to a unit's subtree: a department system's token (docs/integration.md).
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from govcrm.common.errors import DomainError
from govcrm.organization.actions import ALL_SCOPES, api_token_create, api_token_revoke
from govcrm.organization.models import ApiToken


class Command(BaseCommand):
    help = "Create, list or revoke REST API bearer tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="op", required=True)
        create = sub.add_parser("create", help="print a new token for USERNAME")
        create.add_argument("username")
        create.add_argument("--name", default="")
        create.add_argument("--scope", action="append", choices=ALL_SCOPES, dest="scopes",
                            help="a scope the token gets (repeat); default: every scope")
        create.add_argument("--expires-days", type=int, default=None, help="days until the token expires")
        create.add_argument("--unit", default=None,
                            help="limit the token to this unit's subtree (a department system's token)")
        listing = sub.add_parser("list", help="list tokens (prefix, user, scopes, expiry, last use)")
        listing.add_argument("--all", action="store_true", help="include revoked and expired tokens")
        revoke = sub.add_parser("revoke", help="revoke the tokens starting with PREFIX")
        revoke.add_argument("prefix")

    def handle(self, *args, **opts):
        if opts["op"] == "create":
            days = opts["expires_days"]
            if days is not None and days < 1:
                raise CommandError("--expires-days must be at least 1")
            expires = timezone.now() + dt.timedelta(days=days) if days else None
            try:
                token = api_token_create(username=opts["username"], name=opts["name"], scopes=opts["scopes"],
                                         expires_at=expires, unit=opts["unit"])
            except DomainError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(token)
        elif opts["op"] == "list":
            now = timezone.now()
            for t in ApiToken.objects.select_related("user", "unit").order_by("created_at"):
                state = ("revoked" if t.revoked_at else "expired" if t.expires_at and t.expires_at <= now
                         else "active")
                if state != "active" and not opts["all"]:
                    continue
                self.stdout.write("\t".join([
                    t.prefix, t.user.get_username(), state, ",".join(t.scopes) or "-",
                    t.expires_at.isoformat(timespec="minutes") if t.expires_at else "never",
                    t.last_used_at.isoformat(timespec="minutes") if t.last_used_at else "never",
                    f"unit={t.unit.code}" if t.unit else "unit=-", t.name,
                ]))
        else:
            n = api_token_revoke(prefix=opts["prefix"])
            if n == 0:
                raise CommandError(f"No active token starts with {opts['prefix']!r}")
            self.stdout.write(f"revoked {n}")
