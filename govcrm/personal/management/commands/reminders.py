"""`govcrm reminders [--date YYYY-MM-DD]`: queue the reminders due on that day (default today) now.

The worker does this once a day (`personal.tasks.queue_reminders`); each reminder is sent once,
so running it again, or on the same day as the worker, sends nothing twice.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from govcrm.personal.actions import reminders_queue


class Command(BaseCommand):
    help = "Queue the proactive reminders (renewals due, entitlements by age) that are due, once each."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the day to check, YYYY-MM-DD (default: today)")

    def handle(self, *args, **opts):
        day = None
        if opts["date"]:
            try:
                day = dt.date.fromisoformat(opts["date"])
            except ValueError as err:
                raise CommandError(f"--date must be YYYY-MM-DD, not {opts['date']!r}") from err
        queued = reminders_queue(today=day)
        self.stdout.write(f"{queued} reminder(s) queued in the outbox.")
