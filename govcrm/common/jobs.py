"""Enqueue background work that must run only if the current transaction commits.

On the database task backend (the embedded default) the job's row is written in the caller's
transaction: the job exists exactly when the change it follows does, and an intake costs one
commit instead of one per job (each enqueue outside a transaction is a commit of its own, and a
commit is a WAL flush on PostgreSQL). On a broker (RQ on Redis) the job cannot share the
database transaction, so the enqueue waits for the commit (`transaction.on_commit`).

Either way an enqueue that fails is logged and left to the job's database sweep (every task has
one, ADR 0012): on the database backend inside a savepoint-free transaction a failed INSERT means
the database itself failed, and the caller's transaction fails with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django_tasks_db.backend import DatabaseBackend as TasksDatabaseBackend
from django_tasks_db.compat import normalize_json

from . import fastsql

logger = logging.getLogger(__name__)


DATABASE_BACKEND = "govcrm.common.jobs.DatabaseBackend"
DATABASE_BACKENDS = frozenset({DATABASE_BACKEND, "django_tasks_db.DatabaseBackend"})


class DatabaseBackend(TasksDatabaseBackend):
    """django-tasks-db's backend, writing a job's row with one plain INSERT (common/fastsql.py)
    instead of `DBTaskResult.objects.create`: the same row, a third of the CPU. Every intake
    enqueues two jobs (the notification, the dispatch suggestion)."""

    def _task_to_db_task(self, task, args, kwargs):
        from django_tasks_db.models import DBTaskResult

        return fastsql.insert(DBTaskResult(
            id=self._get_id(),
            args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,
            backend_name=self.alias,
        ))


def in_transaction_enqueue() -> bool:
    """True when jobs are rows of the application database (GOVCRM_TASKS_BACKEND=database)."""
    return settings.TASKS["default"]["BACKEND"] in DATABASE_BACKENDS


def enqueue_on_commit(enqueue: Callable[[], object], what: str) -> None:
    """Run `enqueue` (a task's `.enqueue(...)` call) so that the job runs only after a commit."""
    if in_transaction_enqueue() and transaction.get_connection().in_atomic_block:
        enqueue()  # the job row commits (or rolls back) with the caller's change
        return

    def later() -> None:
        try:
            enqueue()
        except Exception:  # the sweep catches up; the change itself is committed and safe
            logger.exception("could not enqueue %s", what)

    transaction.on_commit(later)
