"""`govcrm retention apply [--dry-run]`: anonymise long-closed cases (rules in cases/retention.py)."""

from django.core.management.base import BaseCommand

from govcrm.cases.retention import retention_apply


class Command(BaseCommand):
    help = "Apply the data retention rule: remove personal data of cases closed longer than GOVCRM_RETENTION_DAYS."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="op", required=True)
        apply = sub.add_parser("apply", help="anonymise what is due (idempotent)")
        apply.add_argument("--dry-run", action="store_true", help="only count what would be anonymised")

    def handle(self, *args, **opts):
        result = retention_apply(dry_run=opts["dry_run"])
        if result.cutoff is None:
            self.stdout.write("retention is off (GOVCRM_RETENTION_DAYS=0)")
            return
        verb = "would anonymise" if result.dry_run else "anonymised"
        self.stdout.write(f"{verb} {result.cases} cases closed before {result.cutoff:%Y-%m-%d %H:%M} "
                          f"and {result.citizens} citizens")
