"""Intake throughput: POST /api/v1/cases versus a bare Django view doing one INSERT, same server, same run.

    .venv/bin/python bench/intake.py [--requests 2000] [--concurrency 8] [--workers 2] [--keep]

Starts `gunicorn -w 2` on 127.0.0.1 with a fresh GOVCRM_HOME (SQLite; or the database of
DATABASE_URL when set), migrates, loads the demo city with a few thousand cases, creates an
API token, then sends the same number of requests to each endpoint from a small thread pool,
in alternating rounds, and prints requests/s, latency percentiles and the ratio (target >= 0.5).
The baseline is bench/benchsite/views.py: the whole middleware stack and one INSERT.
Loopback only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `bench.benchsite` is not installed: import it from the checkout
SETTINGS = "bench.benchsite.settings"

DESCRIPTIONS = [
    "{road}的路灯已经好几天不亮了，晚上出行很不方便，希望有关部门尽快派人维修。",
    "{road}路边堆了大量建筑垃圾，已经持续一个多星期了，请相关部门尽快清运。",
    "楼下的烧烤店每晚营业到凌晨，油烟和噪音很大，居民根本睡不着觉，请给个说法。",
    "{road}从早上开始停水，没有任何通知，请问什么时候恢复供水？",
    "我在一家装修公司上班，公司已经拖欠了三个月工资，请尽快帮忙协调解决，谢谢！",
    "The street lights on {road} have been out for several days. Please send someone to fix them.",
    "There is a strong smell of gas in the stairwell at {road}. Please check it urgently.",
]
CATEGORIES = ["urban.lighting.out", "environment.sanitation.garbage", "environment.air.smoke",
              "economy.utilities.water", "labour.wages.arrears", "urban.lighting.out", "economy.utilities.gas"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def govcrm(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "govcrm", *args], env=env, cwd=ROOT, check=True)


def prepare(env: dict, demo_cases: int) -> tuple[str, list[str]]:
    """Migrate, load the demo, create the bench table and an API token (for the agent account)."""
    govcrm(env, "migrate", "-v0")
    govcrm(env, "demo", "--cases", str(demo_cases), "-v0")
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection, connections

    from bench.benchsite.views import TABLE_SQL
    from govcrm.demo import city
    from govcrm.organization.actions import api_token_create

    with connection.cursor() as cursor:
        cursor.execute(TABLE_SQL[connection.vendor])
    token = api_token_create(username="agent", name="bench")
    areas = [g.place.code for g in city.GRIDS]
    connections.close_all()
    return token, areas


class Server:
    def __init__(self, env: dict, port: int, workers: int) -> None:
        self.port = port
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", str(workers), "--bind",
             f"127.0.0.1:{port}", "--log-level", "warning"],
            env=env, cwd=ROOT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not come up")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def payloads(n: int, areas: list[str], rng: random.Random) -> list[bytes]:
    out = []
    for _ in range(n):
        k = rng.randrange(len(DESCRIPTIONS))
        road = rng.choice(["和平路", "解放大道", "建设街", "Heping Road", "Jiefang Avenue"])
        body = {
            "category": CATEGORIES[k], "case_type": "complaint", "channel": "api",
            "description": DESCRIPTIONS[k].format(road=road), "area": rng.choice(areas),
            "language": "en" if DESCRIPTIONS[k].isascii() else "zh-hans",
            "citizen": {"name": "测试", "phone": f"+86139{rng.randrange(10_000_000, 10_000_500):08d}"},
        }
        out.append(json.dumps(body, ensure_ascii=False).encode())
    return out


def send_all(port: int, requests: list[tuple[str, bytes, dict]], concurrency: int,
             ok: set[int]) -> tuple[float, list[float], int]:
    """POST each (path, body, headers) once from `concurrency` threads; (seconds, latencies, failures)."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    it = iter(requests)

    def worker() -> None:
        nonlocal failures
        while True:
            with lock:
                item = next(it, None)
            if item is None:
                return
            path, body, headers = item
            t = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                good = response.status in ok
                conn.close()
            except OSError:
                good = False
            with lock:
                latencies.append(time.perf_counter() - t)
                failures += not good

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - started, latencies, failures


def run(port: int, path: str, token: str, bodies: list[bytes], concurrency: int) -> tuple[float, list[float], int]:
    """Send every JSON body once to `path` with the bearer token; (seconds, latencies, failures)."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return send_all(port, [(path, body, headers) for body in bodies], concurrency, {201})


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else values[0] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint (default 2000)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--demo-cases", type=int, default=5000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary GOVCRM_HOME")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="govcrm-bench-intake-")
    env = {**os.environ, "GOVCRM_HOME": home, "DJANGO_SETTINGS_MODULE": SETTINGS, "PYTHONPATH": str(ROOT),
           "GOVCRM_LOG_LEVEL": "ERROR"}
    database = os.environ.get("DATABASE_URL") or f"sqlite:///{home}/govcrm.sqlite3"
    print(f"database: {database.split('@')[-1]}   GOVCRM_HOME: {home}")
    token, areas = prepare(env, args.demo_cases)
    port = free_port()
    server = Server(env, port, args.workers)
    rng = random.Random(1)
    results: dict[str, dict] = {"api": {"s": 0.0, "lat": [], "fail": 0}, "bare": {"s": 0.0, "lat": [], "fail": 0}}
    try:
        server.wait_ready()
        run(port, "/bench/insert", token, payloads(50, areas, rng), args.concurrency)  # warm-up
        run(port, "/api/v1/cases", token, payloads(50, areas, rng), args.concurrency)
        half = args.requests // 2
        for _round in range(2):  # alternate, so that drift of the machine hits both alike
            for name, path in (("bare", "/bench/insert"), ("api", "/api/v1/cases")):
                seconds, lat, fail = run(port, path, token, payloads(half, areas, rng), args.concurrency)
                r = results[name]
                r["s"] += seconds
                r["lat"] += lat
                r["fail"] += fail
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)

    print(f"\ngunicorn -w {args.workers}, {args.concurrency} concurrent clients, {2 * half} requests per endpoint")
    print(f"{'endpoint':<28} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'failed':>7}")
    rate = {}
    for name, label in (("bare", "bare view, one INSERT"), ("api", "POST /api/v1/cases")):
        r = results[name]
        rate[name] = len(r["lat"]) / r["s"]
        print(f"{label:<28} {rate[name]:>8.1f} {pct(r['lat'], 50):>8.1f} {pct(r['lat'], 95):>8.1f} {r['fail']:>7}")
    ratio = rate["api"] / rate["bare"]
    print(f"\nratio api / bare = {ratio:.2f}  (target >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
