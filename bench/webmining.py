"""What portal web mining costs a request (bench/RESULTS.md, "Portal web mining").

    .venv/bin/python bench/webmining.py [N]          # a throw-away SQLite database under /tmp
    DATABASE_URL=postgres://…/db .venv/bin/python bench/webmining.py [N]   # an existing, migrated one

Three figures, CPU time (`time.process_time`) so that other processes on a shared machine do not
count: (1) `recorder.record` per request — what a portal request pays inline; (2) the bulk
write per row — what the flush thread pays later (hashing, referrer resolution, multi-row
INSERT); (3) a whole portal GET of the help search page through Django's test client with
recording on and off, alternating, median of N (default 300).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    n = int(argv[0]) if argv and argv[0].isdigit() else 300
    fresh = "DATABASE_URL" not in os.environ
    if fresh:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='govcrm-webmining-')}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("GOVCRM_LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.http import HttpResponse
    from django.test import Client, RequestFactory
    from django.urls import resolve

    from govcrm.webmining import recorder
    from govcrm.webmining.models import PageView

    if fresh:
        call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = ["*"]
    settings.GOVCRM_RATE_LIMITS = "off"  # one client, many requests
    settings.GOVCRM_WEB_MINING_FLUSH_SECONDS = 0  # the bench flushes itself
    settings.GOVCRM_WEB_MINING_FLUSH_ROWS = 10**9

    request = RequestFactory().get("/help/12/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="bench/1.0",
                                   HTTP_REFERER="http://testserver/help/?q=%E5%B1%85%E4%BD%8F%E8%AF%81")
    request.resolver_match = resolve("/help/12/")
    response = HttpResponse("<p>x</p>")
    calls = 20_000
    recorder.BUFFER.take()
    t0 = time.process_time()
    for i in range(calls):
        request.META["REMOTE_ADDR"] = f"203.0.113.{i % 250}"
        recorder.record(request, response, 0.004)
    inline_us = (time.process_time() - t0) / calls * 1e6
    before = PageView.objects.count()
    t0 = time.process_time()
    written = recorder.BUFFER.flush()
    flush_us = (time.process_time() - t0) / max(written, 1) * 1e6
    assert PageView.objects.count() - before == calls
    print(f"record() inline per request: {inline_us:.1f} us CPU ({calls} calls)")
    engine = settings.DATABASES["default"]["ENGINE"]
    print(f"bulk write per page view:    {flush_us:.1f} us CPU ({written} rows, {engine})")

    client = Client(REMOTE_ADDR="203.0.113.10", HTTP_USER_AGENT="bench/1.0")
    client.get("/help/?q=居住证")  # warm
    on, off = [], []
    for i in range(n):
        for flag, out in ((True, on), (False, off)) if i % 2 else ((False, off), (True, on)):
            settings.GOVCRM_WEB_MINING = flag
            t0 = time.process_time()
            r = client.get("/help/?q=居住证")
            out.append((time.process_time() - t0) * 1e3)
            assert r.status_code == 200
    recorder.BUFFER.flush()
    print(f"GET /help/?q=… median CPU: recording on {statistics.median(on):.2f} ms, off {statistics.median(off):.2f} ms"
          f" (n={n} each; the difference is within the noise when under ~0.05 ms)")


if __name__ == "__main__":
    main(sys.argv[1:])
