"""`govcrm worker` lowers its CPU priority (GOVCRM_WORKER_NICE, default 10) so that it yields to the
web processes on a shared machine."""

import os
from pathlib import Path

from govcrm.common.testing.processes import Processes, govcrm_env, govcrm_run, wait_until, worker_start


def _nice(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])  # field 19 of proc(5), counted after the command name


def test_worker_runs_at_lower_priority(tmp_path):
    env = govcrm_env(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", home=tmp_path)
    govcrm_run(env, "migrate", "-v", "0")
    expected = min(os.nice(0) + 10, 19)
    with Processes() as procs:
        worker = worker_start(procs, env, schedule=False)
        wait_until(lambda: _nice(worker.pid) == expected, timeout=30, message="the worker's priority")
        assert worker.alive()


def test_periodic_jobs_queue_behind_the_work_of_requests(settings, db):
    """On the database backend the worker takes a notification queued after a periodic batch job
    first: periodic jobs are enqueued with a lower priority (a long one cannot hold it up)."""
    from django_tasks_db.models import DBTaskResult

    from govcrm.common.management.commands.worker import periodic_task
    from govcrm.notifications.tasks import send_notification

    settings.TASKS = {"default": {"BACKEND": "govcrm.common.jobs.DatabaseBackend"}}
    periodic_task("govcrm.topics.tasks.detect_topics").enqueue()
    send_notification.enqueue(1)
    ready = list(DBTaskResult.objects.ready().values_list("task_path", flat=True))
    assert ready == ["govcrm.notifications.tasks.send_notification", "govcrm.topics.tasks.detect_topics"]

    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    assert periodic_task("govcrm.topics.tasks.detect_topics").priority == 0  # RQ runs a queue in order
