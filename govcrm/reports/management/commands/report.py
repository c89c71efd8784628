"""`govcrm report build|send`: the scheduled reports by hand, for operators.

    govcrm report build --period week|month [--date YYYY-MM-DD] [--unit CODE] [--language zh-hans|en]... --out DIR
    govcrm report send [--period week|month] [--date YYYY-MM-DD] [--user USERNAME]...

`build` writes the PDF and XLSX of the period containing --date (default: the one that ended last)
for the whole city or a unit's subtree, from the warehouse as it is (run `govcrm warehouse refresh`
first if needed). `send` mails what is due to subscribers exactly as the worker does (each
subscriber gets a period's report once; failed mailings whose retry time has come are retried).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from govcrm.analytics.warehouse import WarehouseError
from govcrm.common.errors import DomainError

from ...actions import report_build_files, reports_send_due
from ...periods import ALIASES, KINDS, Period, parse_date


class Command(BaseCommand):
    help = "Build scheduled reports into files, or mail the reports due to subscribers."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser("build", help="write a period's PDF and XLSX into a folder")
        build.add_argument("--period", required=True, choices=sorted(ALIASES), help="week or month")
        build.add_argument("--date", help="a day in the period (default: the period that ended last)")
        build.add_argument("--unit", help="a unit's code: its subtree only (default: the whole city)")
        build.add_argument("--language", action="append", help="zh-hans or en (repeatable; default both)")
        build.add_argument("--out", required=True, help="the folder to write to")
        send = sub.add_parser("send", help="mail the reports due to their subscribers")
        send.add_argument("--period", choices=sorted(ALIASES), help="week or month (default: both)")
        send.add_argument("--date", help="a day in the period (default: the period that ended last)")
        send.add_argument("--user", action="append", help="only this subscriber (repeatable)")

    def handle(self, *args, **opts):
        try:
            if opts["action"] == "build":
                self._build(opts)
            else:
                self._send(opts)
        except (DomainError, WarehouseError) as err:
            raise CommandError(str(err)) from err

    def _build(self, opts):
        day = parse_date(opts["date"]) if opts["date"] else None
        written = report_build_files(kind=ALIASES[opts["period"]], day=day, unit_code=opts["unit"],
                                     languages=opts["language"] or ["zh-hans", "en"], out=Path(opts["out"]))
        for path in written:
            self.stdout.write(str(path))

    def _send(self, opts):
        kinds = [ALIASES[opts["period"]]] if opts["period"] else list(KINDS)
        period = None
        if opts["date"]:
            if len(kinds) != 1:
                raise CommandError("--date needs --period")
            period = Period.containing(kinds[0], parse_date(opts["date"]))
        result = reports_send_due(kinds=kinds, period=period, usernames=opts["user"])
        if result.waiting:
            raise CommandError("the warehouse is busy (a refresh is running); nothing was sent, try again")
        self.stdout.write(f"sent {result.sent}, failed {result.failed}")
        for error in result.errors:
            self.stderr.write(error)
