"""CPU per intake, in-process: Python CPU of the request and CPU of its PostgreSQL backend.

    DATABASE_URL=postgres://…/<a demo database> GOVCRM_HOME=<its home> \
        .venv/bin/python bench/intake_cpu.py [rest,o311,portal] [N]

Each kind N times (after 3 to warm up) through Django's test client, as bench/load.py sends
them: REST POST /api/v1/cases with an Idempotency-Key, Open311 POST, and the portal's GET / (a
new visitor: no cookies) followed by its POST. Prints the median Python CPU
(`time.process_time`), the mean CPU of the database's backend process (from /proc: PostgreSQL on
this machine only) and the statements of the last request. CPU, not wall time, so that runs on a
shared machine can be compared (alternate the two versions you compare; see bench/RESULTS.md).
Needs the demo's data (`govcrm demo`); adds cases, an API token and an Open311 client.
With GOVCRM_INTAKE_RECEIPTS=on it measures the peak-hour receipts (ADR 0023): the REST POSTs
send `Prefer: respond-async`; the receipts are left pending (no worker runs).
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import sys
import time
import uuid
from pathlib import Path


def main(argv: list[str]) -> None:
    sys.path.insert(0, os.environ.get("ROOT", str(Path(__file__).resolve().parent.parent)))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("GOVCRM_LOG_LEVEL", "ERROR")
    os.environ["GOVCRM_RATE_LIMITS"] = "off"  # every request comes from one address
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from govcrm.cases.models import Category
    from govcrm.channels.open311.actions import open311_client_create
    from govcrm.organization.actions import api_token_create
    from govcrm.organization.models import Area

    settings.ALLOWED_HOSTS = ["*"]
    kinds = argv[0].split(",") if argv else ["rest", "o311", "portal"]
    n = int(argv[1]) if len(argv) > 1 else 30
    token = api_token_create(username="agent", name="bench-" + uuid.uuid4().hex[:8])
    _client, key = open311_client_create(name="bench-" + uuid.uuid4().hex[:8])
    areas = list(Area.objects.filter(level="grid").values_list("code", flat=True)[:50])
    leaves = list(Category.objects.filter(children__isnull=True, active=True).values_list("code", flat=True)[:30])
    rng = random.Random(1)

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

    def phone() -> str:
        return f"139{rng.randrange(10_000_000, 99_999_999):08d}"

    def rest() -> None:
        body = {"category": rng.choice(leaves), "case_type": "complaint", "channel": "api",
                "description": "小区门口路灯坏了三天，晚上很黑", "area": rng.choice(areas), "language": "zh-hans",
                "citizen": {"name": "测试", "phone": f"+86{phone()}"}}
        prefer = {"HTTP_PREFER": "respond-async"} if settings.GOVCRM_INTAKE_RECEIPTS else {}
        r = Client().post("/api/v1/cases", json.dumps(body, ensure_ascii=False), content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()), **prefer)
        assert r.status_code in (201, 202), r.content[:300]

    def o311() -> None:
        r = Client().post("/open311/v2/requests.json", {
            "api_key": key, "service_code": rng.choice(leaves), "description": "Streetlight out on Main St for days",
            "lat": "39.95", "long": "116.45", "email": f"x{rng.randrange(10**6)}@example.org"})
        assert r.status_code in (200, 201), r.content[:300]

    def portal_get():
        c = Client(enforce_csrf_checks=True)
        r = c.get("/")
        assert r.status_code == 200
        return c, r

    def portal_post(c, r) -> None:
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', r.content.decode()).group(1)
        r = c.post("/", {"csrfmiddlewaretoken": csrf, "token": str(uuid.uuid4()), "category": rng.choice(leaves),
                         "case_type": "complaint", "description": "小区门口路灯坏了三天，晚上很黑",
                         "address": "长安街12号", "phone": phone()}, HTTP_REFERER="http://testserver/")
        assert r.status_code in (302, 303), r.content[:500]

    def timed(fn, *args):
        b0, t0 = backend_cpu(), time.process_time()
        with CaptureQueriesContext(connection) as q:
            out = fn(*args)
        t1, b1 = time.process_time(), backend_cpu()
        return out, (t1 - t0) * 1000, (b1 - b0) * 1000, len(q)

    for kind in kinds:
        rows: list[list[tuple[float, float, int]]] = []
        for i in range(n + 3):
            if kind == "portal":
                (c, r), *get = timed(portal_get)
                _none, *post = timed(portal_post, c, r)
                parts = [tuple(get), tuple(post)]
            else:
                _none, *one = timed({"rest": rest, "o311": o311}[kind])
                parts = [tuple(one)]
            if i >= 3:
                rows.append(parts)
        names = ["GET /", "POST /"] if kind == "portal" else [kind]
        for j, name in enumerate(names):
            py = statistics.median(r[j][0] for r in rows)
            db = statistics.mean(r[j][1] for r in rows)
            print(f"{kind:7} {name:7} python {py:6.1f} ms  database {db:5.1f} ms  {rows[-1][j][2]:3d} statements",
                  flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
