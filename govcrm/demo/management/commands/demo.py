"""`govcrm demo --cases N [--seed S] [--days D] [--workers W]`: the demo city and N demo cases.

Creates the demo city if it is missing (idempotent), then appends N cases with their full
histories, adds the knowledge base's sample articles that are missing, refreshes the analytics
warehouse (so that the dashboards show the new cases at once); prints the demo
accounts and their password. See govcrm/demo/README.md.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from govcrm.demo.applications import applications_ensure
from govcrm.demo.city import DEMO_PASSWORD, city_ensure, demo_accounts
from govcrm.demo.dispatching import demo_classifier
from govcrm.demo.generate import demo_generate
from govcrm.demo.incidents import incidents_add
from govcrm.knowledge.samples import samples_ensure
from govcrm.services.demo import services_demo_ensure


class Command(BaseCommand):
    help = "Create the demo city (if missing) and append N demo cases with consistent histories."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=5000, help="how many cases to add (default 5000)")
        parser.add_argument("--seed", type=int, default=1, help="seed of the generator (default 1)")
        parser.add_argument("--days", type=int, default=730, help="spread the cases over this many days up to now")
        parser.add_argument("--workers", type=int, default=None,
                            help="processes building cases (default: 2 for 20,000 cases or more, else none)")

    def handle(self, *args, **opts):
        if opts["cases"] < 0 or opts["days"] < 1:
            self.stderr.write("--cases must be 0 or more and --days at least 1")
            return
        if opts["cases"] == 0:
            city_ensure()
        else:
            s = demo_generate(cases=opts["cases"], seed=opts["seed"], days=opts["days"], workers=opts["workers"],
                              progress=opts["verbosity"] > 0)
            incidents_add()  # a recent burst of reports of two incidents, for hot topics and warnings
            self.stdout.write(demo_classifier())  # suggestions and automatic dispatch for new messages
            self.stdout.write(
                f"Added {s.cases:,} cases ({s.events:,} events, {s.citizens:,} new citizens) in {s.seconds:.1f} s "
                f"({s.cases / max(s.seconds, 1e-9):,.0f} cases/s)."
            )
            a = applications_ensure(seed=opts["seed"])  # service catalogue and the citizens' past applications
            self.stdout.write(f"Services: {a.items_added} offline items added; {a.applications:,} past applications "
                              f"of {a.citizens:,} citizens.")
        added = samples_ensure()  # the knowledge base's sample articles, once
        # the three online services with their BPMN processes, and sample applications (once)
        self.stdout.write(services_demo_ensure(password=DEMO_PASSWORD).line)
        if opts["cases"] > 0:
            from govcrm.webmining.demo import portal_traffic_ensure

            t = portal_traffic_ensure(seed=opts["seed"])  # portal page views and searches, once
            self.stdout.write(f"Portal traffic: {t.page_views:,} page views, {t.searches:,} searches added.")
            self._refresh_warehouse()
        self.stdout.write(f"Knowledge base: {added} sample articles added.")
        self.stdout.write(f"Demo accounts (password: {DEMO_PASSWORD}):")
        for username, role, unit in demo_accounts():
            self.stdout.write(f"  {username:<16} {role:<11} {unit}")
        self.stdout.write("  … and handler_<unit> for every other unit (e.g. handler_d2s3, handler_environment).")

    def _refresh_warehouse(self) -> None:
        """Load the new cases into the analytics warehouse now, so that the dashboards show the demo
        city on first use instead of waiting for the worker's periodic refresh."""
        from govcrm.analytics.actions import warehouse_refresh
        from govcrm.analytics.warehouse import WarehouseBusy

        try:
            r = warehouse_refresh()
        except WarehouseBusy:
            self.stdout.write("Warehouse busy (a refresh is running): the worker will load the demo cases.")
            return
        self.stdout.write(f"Warehouse refreshed: {r.cases:,} cases in {r.seconds:.1f} s.")
