"""`govcrm retention apply [--dry-run]`: anonymise long-closed cases (rules in cases/retention.py) and
delete old portal page views (webmining/actions.py)."""

from django.core.management.base import BaseCommand

from govcrm.cases.retention import retention_apply
from govcrm.webmining.actions import page_views_prune


class Command(BaseCommand):
    help = ("Apply the data retention rules: remove personal data of cases closed longer than "
            "GOVCRM_RETENTION_DAYS, delete portal page views older than GOVCRM_WEB_MINING_RETENTION_DAYS.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="op", required=True)
        apply = sub.add_parser("apply", help="anonymise and delete what is due (idempotent)")
        apply.add_argument("--dry-run", action="store_true", help="only count what would be anonymised or deleted")

    def handle(self, *args, **opts):
        result = retention_apply(dry_run=opts["dry_run"])
        if result.cutoff is None:
            self.stdout.write("retention is off (GOVCRM_RETENTION_DAYS=0)")
        else:
            verb = "would anonymise" if result.dry_run else "anonymised"
            self.stdout.write(f"{verb} {result.cases} cases closed before {result.cutoff:%Y-%m-%d %H:%M} "
                              f"and {result.citizens} citizens")
        pruned = page_views_prune(dry_run=opts["dry_run"])
        if pruned.cutoff is None:
            self.stdout.write("page views are kept (GOVCRM_WEB_MINING_RETENTION_DAYS=0)")
        else:
            verb = "would delete" if pruned.dry_run else "deleted"
            self.stdout.write(f"{verb} {pruned.page_views} portal page views from before "
                              f"{pruned.cutoff:%Y-%m-%d %H:%M}")
