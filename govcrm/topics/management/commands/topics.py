"""`govcrm topics detect [--days N]`: compute the hot topics and the early warnings now."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from govcrm.topics.actions import DEFAULT_DAYS, topics_detect
from govcrm.topics.models import Warning


class Command(BaseCommand):
    help = "Hot topics and early warnings: `detect` clusters the recent cases and tests for bursts."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        detect = sub.add_parser("detect", help="cluster the cases of the last N days and raise warnings")
        detect.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"period in days (default {DEFAULT_DAYS})")

    def handle(self, *args, **opts):
        if opts["days"] < 1:
            raise CommandError("--days must be at least 1")
        run = topics_detect(days=opts["days"])
        topics = list(run.topics.order_by("rank")[:10])
        self.stdout.write(f"{run.case_count} cases, {run.topics.count()} topics in {run.seconds:.2f} s.")
        for t in topics:
            self.stdout.write(f"  #{t.rank} {t.size:>4}  {' '.join(t.terms)}")
        new = Warning.objects.filter(status=Warning.Status.NEW)
        self.stdout.write(f"{new.count()} new warnings.")
        for w in new.order_by("-window_end")[:10]:
            self.stdout.write(f"  {w.kind:<14} {w.subject[:40]:<40} {w.observed} vs {w.expected:.1f} "
                              f"(p={w.p_value:.2g})")
