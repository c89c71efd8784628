"""`govcrm warehouse refresh [--full]` and `govcrm warehouse export [--out DIR]`."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from govcrm.analytics.actions import warehouse_export, warehouse_refresh
from govcrm.analytics.warehouse import WarehouseError, warehouse_path


class Command(BaseCommand):
    help = "The analytics warehouse (DuckDB): `refresh` loads what changed, `export` writes Parquet."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        refresh = sub.add_parser("refresh", help="load what changed since the last refresh")
        refresh.add_argument("--full", action="store_true", help="rebuild from scratch")
        refresh.add_argument("--no-progress", action="store_true", help="no progress bar")
        export = sub.add_parser("export", help="write Parquet files, facts partitioned by month")
        export.add_argument("--out", type=Path, help="folder (default: the warehouse folder's parquet/)")

    def handle(self, *args, **opts):
        try:
            if opts["what"] == "refresh":
                r = warehouse_refresh(full=opts["full"], progress=not opts["no_progress"])
                kind = _("full rebuild") if r.full else _("incremental")
                self.stdout.write(_(
                    "Warehouse refreshed (%(kind)s) in %(seconds).1f s: %(cases)d cases, %(events)d new events, "
                    "%(citizens)d citizens, %(interactions)d new interactions. File: %(path)s"
                ) % {"kind": kind, "seconds": r.seconds, "cases": r.cases, "events": r.events,
                     "citizens": r.citizens, "interactions": r.interactions, "path": warehouse_path()})
                self.stdout.write(_(
                    "%(applications)d applications, %(views)d new page views, %(searches)d new searches; "
                    "citizen segments: %(segments)s."
                ) % {"applications": r.applications, "views": r.page_views, "searches": r.searches,
                     "segments": r.segments if r.segments is not None else _("not due")})
            else:
                r = warehouse_export(out=opts["out"])
                self.stdout.write(_("Exported %(rows)d rows in %(tables)d tables to %(out)s") % {
                    "rows": sum(r.tables.values()), "tables": len(r.tables), "out": r.out})
        except WarehouseError as exc:
            raise CommandError(str(exc)) from exc
