"""Channel intake throughput: Open311 POST requests and portal submissions, against the bare limit.

    .venv/bin/python bench/channels.py [--requests 1000] [--concurrency 8] [--workers 2]

Same server and baseline as bench/intake.py (gunicorn -w 2, SQLite under a fresh GOVCRM_HOME,
the bare view doing one INSERT), measured in the same run: the bare view, POST
/open311/v2/requests.json (form-encoded, api_key of a client made for the run), and the
portal's POST / (form with CSRF token and a fresh submission token, answered by a redirect to
the confirmation page). Prints requests/s, p50/p95 and each ratio to the bare limit.
Loopback only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import sys
import tempfile
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import SETTINGS, Server, free_port, payloads, pct, prepare, send_all  # noqa: E402

TEXTS = ["和平路的路灯已经好几天不亮了，晚上出行很不方便。", "建设街路边堆了大量建筑垃圾，请尽快清运。",
         "The street lights on Heping Road have been out for several days."]


def open311_requests(n: int, key: str, rng: random.Random) -> list[tuple[str, bytes, dict]]:
    out = []
    for _ in range(n):
        form = {"api_key": key, "service_code": "urban.lighting.out", "description": rng.choice(TEXTS),
                "lat": f"{39.9 + rng.random() / 10:.5f}", "long": f"{116.4 + rng.random() / 10:.5f}",
                "email": f"fms{rng.randrange(10**6)}@example.org"}
        out.append(("/open311/v2/requests.json", urllib.parse.urlencode(form).encode(),
                    {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}))
    return out


def portal_csrf(port: int) -> tuple[str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/")
    response = conn.getresponse()
    html = response.read().decode()
    cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "").group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return cookie, token


def portal_requests(n: int, csrf: tuple[str, str], rng: random.Random) -> list[tuple[str, bytes, dict]]:
    cookie, token = csrf
    out = []
    for _ in range(n):
        form = {"csrfmiddlewaretoken": token, "token": str(uuid.uuid4()), "category": "urban.lighting.out",
                "case_type": "complaint", "description": rng.choice(TEXTS), "address": "和平路12号",
                "phone": f"+86139{rng.randrange(10_000_000, 10_000_500):08d}"}
        out.append(("/", urllib.parse.urlencode(form).encode(),
                    {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}",
                     "Referer": "http://127.0.0.1/", "Host": "127.0.0.1"}))
    return out


def bare_requests(n: int, token: str, areas: list[str], rng: random.Random) -> list[tuple[str, bytes, dict]]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return [("/bench/insert", body, headers) for body in payloads(n, areas, rng)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="govcrm-bench-channels-")
    env = {**os.environ, "GOVCRM_HOME": home, "DJANGO_SETTINGS_MODULE": SETTINGS, "PYTHONPATH": str(ROOT),
           "GOVCRM_LOG_LEVEL": "ERROR"}
    token, areas = prepare(env, 2000)
    from django.db import connections

    from govcrm.channels.open311.actions import open311_client_create

    _client, key = open311_client_create(name="bench")
    connections.close_all()
    port = free_port()
    server = Server(env, port, args.workers)
    rng = random.Random(2)
    results: dict[str, list] = {"bare": [0.0, [], 0], "open311": [0.0, [], 0], "portal": [0.0, [], 0]}
    try:
        server.wait_ready()
        csrf = portal_csrf(port)
        half = args.requests // 2
        makers = {
            "bare": (lambda n: bare_requests(n, token, areas, rng), {201}),
            "open311": (lambda n: open311_requests(n, key, rng), {200, 201}),
            "portal": (lambda n: portal_requests(n, csrf, rng), {302, 303}),
        }
        for make, ok in makers.values():  # warm-up
            send_all(port, make(30), args.concurrency, ok)
        for _round in range(2):
            for name, (make, ok) in makers.items():
                seconds, lat, fail = send_all(port, make(half), args.concurrency, ok)
                results[name][0] += seconds
                results[name][1] += lat
                results[name][2] += fail
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
    print(f"\ngunicorn -w {args.workers}, {args.concurrency} concurrent clients, {2 * half} requests per endpoint")
    print(f"{'endpoint':<34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'failed':>7} {'ratio':>6}")
    bare = len(results["bare"][1]) / results["bare"][0]
    for name, label in (("bare", "bare view, one INSERT"), ("open311", "POST /open311/v2/requests.json"),
                        ("portal", "portal POST / (submission)")):
        seconds, lat, fail = results[name]
        rate = len(lat) / seconds
        print(f"{label:<34} {rate:>8.1f} {pct(lat, 50):>8.1f} {pct(lat, 95):>8.1f} {fail:>7} {rate / bare:>6.2f}")


if __name__ == "__main__":
    main()
