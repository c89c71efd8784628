"""`govcrm identity match [--threshold 0.95]`: find duplicate citizen records and registry matches.

Runs the matching in this process (the worker runs the same job periodically) and prints how many
pairs were found and proposed; reviewers decide in the console (/console/identity/).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from ...actions import DEFAULT_THRESHOLD, match_run


class Command(BaseCommand):
    help = "Identity resolution: score citizens and registry residents, store proposals."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        match = sub.add_parser("match", help="run the matching now")
        match.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                           help="propose pairs at or above this match probability")

    def handle(self, *args, **opts):
        run = match_run(threshold=opts["threshold"])
        self.stdout.write(f"match run #{run.pk}: {run.citizens} citizens, {run.residents} registry records, "
                          f"{run.pairs} pairs above {run.threshold}, {run.proposed} new proposals, "
                          f"{run.seconds:.1f} s")
