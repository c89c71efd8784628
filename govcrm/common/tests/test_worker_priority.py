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
