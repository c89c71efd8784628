"""`govcrm worker`: runs background tasks and enqueues the periodic jobs.

The backend is configuration (GOVCRM_TASKS_BACKEND, see ADR 0012): on "database" this runs
django-tasks-db's `db_worker`; on "rq" an RQ worker on the Redis queue (with RQ's scheduler for
tasks deferred with `run_after`). The periodic schedule lives in PERIODIC (task path → seconds).

Several workers may run:
- each periodic job is safe to run twice, so no leader election is needed;
- on "rq" a worker enqueues a periodic job only if it wins a Redis key that lives for the job's
  period (SET NX EX), so N workers enqueue it about once per period, not N times; on "database"
  every worker enqueues every job (ADR 0003).
- Jobs the broker loses (Redis restarted without persistence, a worker SIGKILLed mid-job) are
  recovered by the periodic sweeps from the database, the source of truth (ADR 0009, ADR 0012).
- A database outage does not end the worker: django-tasks-db's loop stops on the connection
  error; the worker waits OUTAGE_PAUSE seconds and resumes, with a new connection, until the
  database answers again (common/outage.py). A task cut by the outage is not run again by the
  database backend; the sweeps re-do what matters (notifications are swept every
  GOVCRM_NOTIFY_SWEEP_SECONDS).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connections
from django.utils.module_loading import import_string

from govcrm.common.outage import UNAVAILABLE_ERRORS
from govcrm.integration import conf as webhook_conf

logger = logging.getLogger(__name__)

OUTAGE_PAUSE = 5  # seconds between attempts while the database cannot be reached
PERIODIC: dict[str, int] = {
    "govcrm.cases.tasks.check_deadlines": 300,
    # intake receipts whose registrar job was lost (channels/receipts.py, ADR 0023)
    "govcrm.channels.tasks.register_receipts": 15,
    "govcrm.notifications.tasks.sweep_notifications": settings.GOVCRM_NOTIFY_SWEEP_SECONDS,
    # webhook retries after back-off, lost enqueues and missed application events (integration)
    "govcrm.integration.tasks.sweep_webhooks": webhook_conf.get("GOVCRM_WEBHOOK_SWEEP_SECONDS"),
    # BPMN timers of applications on their working-day legal limit (services/actions.py)
    "govcrm.services.tasks.fire_application_timers": 300,
    "govcrm.topics.tasks.detect_topics": 3600,
    # proactive reminders (renewals due, entitlements by age) into the outbox, once each (personal/actions.py)
    "govcrm.personal.tasks.queue_reminders": 86400,
    "govcrm.intelligence.tasks.suggest_missing": 120,
    "govcrm.analytics.tasks.refresh_warehouse": 900,
    # weekly and monthly reports: due from Monday / the 1st, each mailed once (reports/actions.py)
    "govcrm.reports.tasks.send_due_reports": 900,
    "govcrm.cases.tasks.apply_retention": 86400,  # data retention (cases/retention.py, webmining/actions.py), daily
    # duplicate citizen records and registry matches for reviewers (govcrm/identity), daily
    "govcrm.identity.tasks.match_identities": 86400,
    # safety nets for tasks whose job the broker lost (ADR 0012)
    "govcrm.channels.email.tasks.sweep_acknowledgements": 300,
    "govcrm.channels.wechat.tasks.sweep_media": 600,
}


# Periodic jobs go behind the jobs of citizens' requests (notifications, dispatch suggestions) on a
# backend that orders by priority (the database backend; RQ runs a queue in order): a long batch
# job — hot topics over a month of a big city's messages, a warehouse refresh — must not hold up
# the notifications queued meanwhile behind it (bench/RESULTS.md, "Load test", session 5).
PERIODIC_PRIORITY = -10


def periodic_task(path: str):
    task = import_string(path)
    return task.using(priority=PERIODIC_PRIORITY) if task.get_backend().supports_priority else task


def _always(path: str, every: int) -> bool:
    return True


def rq_claim(path: str, every: int) -> bool:
    """True for the one worker that wins this period of the job (a Redis key living `every` s)."""
    import django_rq

    return bool(django_rq.get_connection().set(f"govcrm:periodic:{path}", socket.gethostname() + f":{os.getpid()}",
                                               nx=True, ex=every))


def run_scheduler(stop: threading.Event, periodic: dict[str, int],
                  claim: Callable[[str, int], bool] = _always) -> None:
    next_run = {path: 0.0 for path in periodic}
    while not stop.is_set():
        now = time.monotonic()
        for path, every in periodic.items():
            if now >= next_run[path]:
                try:
                    if claim(path, every):
                        periodic_task(path).enqueue()
                    next_run[path] = now + every
                except Exception:  # a database or broker hiccup must not kill the scheduler; retry soon
                    logger.exception("could not enqueue %s", path)
                    next_run[path] = now + min(every, 30)
                finally:
                    close_old_connections()
        stop.wait(min(5, *periodic.values()))


def run_through_outages(run: Callable[[], None]) -> None:
    """Run the task loop; when a database outage ends it, wait and run it again, with new connections."""
    while True:
        try:
            run()
        except UNAVAILABLE_ERRORS as exc:
            logger.warning("database unavailable (%s); the worker resumes in %s s", exc, OUTAGE_PAUSE)
            connections.close_all()
            time.sleep(OUTAGE_PAUSE)
        else:
            return


class Command(BaseCommand):
    help = "Run the background worker (tasks + periodic jobs)."

    def add_arguments(self, parser):
        parser.add_argument("--no-schedule", action="store_true", help="process tasks only")
        parser.add_argument("--batch", action="store_true", help="process what is queued, then exit")
        parser.add_argument("--nice", type=int, default=int(os.environ.get("GOVCRM_WORKER_NICE", "10")),
                            help="lower the worker's CPU priority by this much (0: unchanged)")

    def handle(self, *args, **opts):
        if opts["nice"] > 0:
            # Where the worker shares a machine with web processes (the embedded default), a burst
            # of intakes must be acknowledged first; suggestions and sweeps catch up afterwards.
            # RQ's job processes inherit the priority.
            os.nice(opts["nice"])
        rq = settings.GOVCRM_TASKS_BACKEND == "rq"
        stop = threading.Event()
        if not opts["no_schedule"] and not opts["batch"]:
            threading.Thread(target=run_scheduler, args=(stop, PERIODIC, rq_claim if rq else _always),
                             daemon=True, name="govcrm-periodic").start()
        try:
            if rq:
                # RQ forks a child per job, so a crashing or leaking task never takes the worker
                # down; --with-scheduler moves jobs deferred with run_after onto the queue when due
                # (one worker at a time holds RQ's scheduler lock).
                call_command("rqworker", *settings.RQ_QUEUES, with_scheduler=True, burst=opts["batch"],
                             verbosity=opts["verbosity"] - 1)
            else:
                run_through_outages(lambda: call_command("db_worker", batch=opts["batch"], no_startup_delay=True,
                                                         reload=False, queue_name="*"))
        finally:
            stop.set()
