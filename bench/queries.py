"""Queue and search latency on a database of a million demo cases.

    GOVCRM_HOME=/tmp/govcrm-1m .venv/bin/python bench/queries.py [--cases 1000000] [--repeat 50]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/govcrm_demo .venv/bin/python bench/queries.py

Uses the database that GOVCRM_HOME / DATABASE_URL select (default: SQLite under a temporary
GOVCRM_HOME), migrates it and, when it holds fewer than --cases cases, runs
`govcrm demo --cases <missing>` first. Then times, `--repeat` times each after a warm-up:
(a) a unit's work queue page (cases.queries.case_queue for a handler, first 50 rows) and a
unit's case list (case_list filtered by unit, first 50 rows); (b) full-text search
(case_list with q=, first 50 rows plus the count) for common and rare, Chinese and English
words. Prints p50/p95 in milliseconds against the targets (queue <= 50 ms, search <= 150 ms)
and the query plan of anything over its target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUEUE_TARGET_MS = 50
SEARCH_TARGET_MS = 150


def setup(args) -> None:
    if not os.environ.get("DATABASE_URL") and not os.environ.get("GOVCRM_HOME"):
        os.environ["GOVCRM_HOME"] = tempfile.mkdtemp(prefix="govcrm-bench-queries-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    env = dict(os.environ)
    subprocess.run([sys.executable, "-m", "govcrm", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    import django

    django.setup()
    from django.db import connections

    from govcrm.cases.models import Case

    have = Case.objects.count()
    connections.close_all()
    if have < args.cases:
        print(f"{have:,} cases: adding {args.cases - have:,} with `govcrm demo` …", flush=True)
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "govcrm", "demo", "--cases", str(args.cases - have)], env=env,
                       cwd=ROOT, check=True)
        print(f"demo generation took {time.monotonic() - started:.1f} s", flush=True)


def timed(fn, repeat: int) -> tuple[float, float, object]:
    for _ in range(3):
        result = fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t) * 1000)
    q = statistics.quantiles(samples, n=100)
    return q[49], q[94], result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    setup(args)

    from django.contrib.auth import get_user_model
    from django.db import connection

    from govcrm.cases.models import Case
    from govcrm.cases.queries import CaseFilter, case_list, case_queue
    from govcrm.organization.queries import actor_for_user

    users = get_user_model().objects
    actor = {name: actor_for_user(users.get(username=name)) for name in
             ("dispatcher", "handler_street", "handler_urban", "handler_d1", "handler_water", "manager_d1")}

    def page(qs):
        return qs, lambda: list(qs()[:50])

    def page_and_count(qs):
        return qs, lambda: (list(qs()[:50]), qs().count())

    queue_cases = [
        ("queue in_progress, street handler", page(lambda: case_queue(actor["handler_street"], "in_progress"))),
        ("queue to_accept, street handler", page(lambda: case_queue(actor["handler_street"], "to_accept"))),
        ("queue overdue, district manager", page(lambda: case_queue(actor["manager_d1"], "overdue"))),
        ("queue due_soon, water handler", page(lambda: case_queue(actor["handler_water"], "due_soon"))),
        ("queue to_dispatch, dispatcher", page(lambda: case_queue(actor["dispatcher"], "to_dispatch"))),
        ("queue to_review, dispatcher", page(lambda: case_queue(actor["dispatcher"], "to_review"))),
        ("list own cases, urban handler", page(lambda: case_list(actor["handler_urban"], CaseFilter()))),
        ("list own cases, district handler", page(lambda: case_list(actor["handler_d1"], CaseFilter()))),
        ("list unit=gov-d1s1, dispatcher",
         page(lambda: case_list(actor["dispatcher"], CaseFilter(unit="gov-d1s1")))),
        ("list unit=water open, dispatcher",
         page(lambda: case_list(actor["dispatcher"], CaseFilter(unit="water", status="accepted,in_progress")))),
    ]

    def search(who: str, q: str):
        return page_and_count(lambda: case_list(actor[who], CaseFilter(q=q)))

    search_cases = [
        ("search 路灯 (common zh)", search("dispatcher", "路灯")),
        ("search 停水 (common zh)", search("dispatcher", "停水")),
        ("search 物业 收费 (two zh words)", search("dispatcher", "物业 收费")),
        ("search 阿强烤鱼 (rare zh)", search("dispatcher", "阿强烤鱼")),
        ("search 锦绣花园 (rare zh place)", search("dispatcher", "锦绣花园")),
        ("search light (common en)", search("dispatcher", "light")),
        ("search karaoke (rare en)", search("dispatcher", "karaoke")),
        ("search 路灯, street handler", search("handler_street", "路灯")),
        ("search 拖欠工资, district handler", search("handler_d1", "拖欠工资")),
    ]

    total = Case.objects.count()
    print(f"\n{connection.vendor}, {total:,} cases, {args.repeat} runs each after 3 warm-ups")
    print(f"{'query':<40} {'p50 ms':>8} {'p95 ms':>8} {'rows':>9}  target")
    slow = []
    for cases, target in ((queue_cases, QUEUE_TARGET_MS), (search_cases, SEARCH_TARGET_MS)):
        for label, (qs, fn) in cases:
            p50, p95, result = timed(fn, args.repeat)
            rows = result[1] if isinstance(result, tuple) else len(result)
            ok = p95 <= target
            print(f"{label:<40} {p50:>8.1f} {p95:>8.1f} {rows:>9,}  {'ok' if ok else f'OVER {target} ms'}",
                  flush=True)
            if not ok:
                slow.append((label, qs, isinstance(result, tuple)))
    for label, qs, counted in slow:
        print(f"\n--- over target: {label}\n{qs()[:50].query}\n{qs()[:50].explain()}")
        if counted:
            print(f"count: {qs().order_by().values('pk').query}\n{qs().order_by().values('pk').explain()}")


if __name__ == "__main__":
    main()
