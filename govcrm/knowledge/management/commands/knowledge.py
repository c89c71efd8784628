"""The knowledge base from the command line.

    govcrm knowledge reindex     recompute every version's search terms (after a change of the
                                 dictionary, the stop words or the stemming rules)
    govcrm knowledge samples     add the sample articles that are missing (also done by `govcrm demo`)
"""

from django.core.management.base import BaseCommand

from govcrm.knowledge.actions import article_versions_reindex
from govcrm.knowledge.samples import samples_ensure


class Command(BaseCommand):
    help = "Re-index the knowledge base's search terms, or add the sample articles."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="op", required=True)
        sub.add_parser("reindex", help="recompute every version's search terms")
        sub.add_parser("samples", help="add the sample articles that are missing")

    def handle(self, *args, **opts):
        if opts["op"] == "reindex":
            changed, total = article_versions_reindex()
            self.stdout.write(f"{changed} of {total} article versions re-indexed.")
        else:
            self.stdout.write(f"{samples_ensure()} sample articles added.")
