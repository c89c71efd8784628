"""CPU per console page, one page at a time, in-process (bench/RESULTS.md, "console pages").

    DATABASE_URL=postgres://…/govcrm_perf GOVCRM_HOME=<its home> \
        .venv/bin/python bench/console_pages.py [N] [url-part …]

For each page: Python CPU of the request (`time.process_time`, median of N, default 10), the CPU
the database's backend process used (from /proc, PostgreSQL on this machine only; mean) and the
number of statements. Needs the demo's users (`govcrm demo`); reads only. Wall time is left out
on purpose: on a shared machine it measures the other processes.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

PAGES = [
    ("dispatcher", "/console/"), ("dispatcher", "/console/queues/to_dispatch/"),
    ("dispatcher", "/console/queues/overdue/"), ("handler_street", "/console/"),
    ("handler_street", "/console/queues/in_progress/"), ("manager_d1", "/console/"), ("supervisor", "/console/"),
    ("dispatcher", "/console/search/?q=路灯"), ("dispatcher", "/console/search/?q=karaoke"),
    ("dispatcher", "/console/search/?q=物业 收费"), ("dispatcher", "/console/search/?q=water"),
    ("handler_street", "/console/search/?q=路灯"), ("handler_street", "/console/search/?q=karaoke"),
    ("manager_d1", "/console/search/?q=噪音"), ("dispatcher", "/console/dispatch/"),
]


def main(argv: list[str]) -> None:
    sys.path.insert(0, os.environ.get("ROOT", str(Path(__file__).resolve().parent.parent)))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("GOVCRM_LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = ["*"]
    n = int(argv[0]) if argv and argv[0].isdigit() else 10
    only = [a for a in argv if not a.isdigit()]

    def backend_cpu() -> float:
        if connection.vendor != "postgresql":
            return 0.0
        with connection.cursor() as c:
            c.execute("SELECT pg_backend_pid()")
            pid = c.fetchone()[0]
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the database runs elsewhere
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    clients: dict[str, Client] = {}
    for who, url in PAGES:
        if only and not any(o in url for o in only):
            continue
        if who not in clients:
            clients[who] = Client()
            clients[who].force_login(User.objects.get(username=who))
        c = clients[who]
        c.get(url)  # warm
        py, db, statements = [], [], 0
        for _ in range(n):
            b0, t0 = backend_cpu(), time.process_time()
            with CaptureQueriesContext(connection) as q:
                r = c.get(url)
            t1, b1 = time.process_time(), backend_cpu()
            if r.status_code != 200:
                raise SystemExit(f"{url} as {who}: {r.status_code}")
            py.append((t1 - t0) * 1000)
            db.append((b1 - b0) * 1000)
            statements = len(q)
        print(f"{who:15} {url:40} python {statistics.median(py):6.1f} ms  database {statistics.mean(db):6.1f} ms"
              f"  {statements:3d} statements", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
