"""`govcrm worker`: runs background tasks and enqueues the periodic jobs.

The periodic schedule lives in PERIODIC (task path → seconds). Several workers may run: each
periodic job is safe to run twice, so no leader election is needed.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

PERIODIC: dict[str, int] = {
    "govcrm.cases.tasks.check_deadlines": 300,
    "govcrm.notifications.tasks.sweep_notifications": 60,
    "govcrm.topics.tasks.detect_topics": 3600,
    "govcrm.intelligence.tasks.suggest_missing": 120,
}


def run_scheduler(stop: threading.Event, periodic: dict[str, int]) -> None:
    next_run = {path: 0.0 for path in periodic}
    while not stop.is_set():
        now = time.monotonic()
        for path, every in periodic.items():
            if now >= next_run[path]:
                try:
                    import_string(path).enqueue()
                except Exception:  # a database hiccup must not kill the scheduler; retry next tick
                    logger.exception("could not enqueue %s", path)
                finally:
                    close_old_connections()
                next_run[path] = now + every
        stop.wait(5)


class Command(BaseCommand):
    help = "Run the background worker (tasks + periodic jobs)."

    def add_arguments(self, parser):
        parser.add_argument("--no-schedule", action="store_true", help="process tasks only")
        parser.add_argument("--batch", action="store_true", help="process what is queued, then exit")

    def handle(self, *args, **opts):
        stop = threading.Event()
        if not opts["no_schedule"] and not opts["batch"]:
            threading.Thread(target=run_scheduler, args=(stop, PERIODIC), daemon=True).start()
        try:
            call_command("db_worker", batch=opts["batch"], no_startup_delay=True, reload=False,
                         queue_name="*")
        finally:
            stop.set()
