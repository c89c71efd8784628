"""Load test: a realistic mix of intakes and console pages against the deployed layout on PostgreSQL.

    .venv/bin/python bench/load.py [--database govcrm_load] [--demo-cases 200000] [--reuse]
                                   [--stage-seconds 20] [--users 4,8,16] [--phases intake,console,mixed]
                                   [--web-threads N] [--max-requests 20000] [--json FILE]
                                   [--settle SECONDS] [--drain SECONDS] [--receipts]

1. Creates the PostgreSQL database `--database` on 127.0.0.1:5432 (dropped first unless
   `--reuse` finds it with at least `--demo-cases` cases), migrates it and fills it with
   `govcrm demo --cases N`; adds an API token for the agent account and an Open311 client for
   the run. GOVCRM_HOME (`--home`, default <tmp>/govcrm-load-<database>) is kept: it holds the
   field key the demo's phone numbers are encrypted with.
2. Starts `govcrm up --demo-cases 0` on a free loopback port: gunicorn with 2 web processes (the
   threads of `govcrm up`, or `--web-threads`), the background worker and the mail listener,
   exactly as an operator starts them (output in GOVCRM_HOME/up.log). Per-address rate limits
   are switched off for the run with GOVCRM_RATE_LIMITS=off (all load comes from one address;
   see govcrm/common/ratelimit.py), and gunicorn's access log with GOVCRM_ACCESS_LOG=off (in
   production nginx logs the requests, docs/deploy.md).
3. Waits (`--settle`, 300 s at most) until the worker has run the periodic jobs it queues at its
   start, then runs the load generator in a separate process (`bench/load.py --drive`: stdlib HTTP client
   in threads, one keep-alive connection per virtual user, closed loop without think time) in
   up to three phases, each a ramp of stages with 4, 8, 16 virtual users, every stage bounded by
   `--stage-seconds` and by `--max-requests`:
   - intake: citizens and systems — the portal (GET / for the form, then POST /, a new visitor
     each time), Open311 POST, REST POST /api/v1/cases with an Idempotency-Key; 40/30/30;
   - console: signed-in staff of several roles (dispatcher, street/unit handlers, manager,
     supervisor, agent) — the overview, a work queue, a search by word, a case page, the
     dispatch-quality page (25/30/25/15/5);
   - mixed: half the users intake, half the staff, at the same time.
   There are no analytics dashboards yet: the console's overview, queue and list (search) pages
   and the dispatch-quality page stand in for "dashboard views".
4. With `--drain S`, after each stage with intakes waits (up to S seconds, no load) until the
   worker has done the background work the stage queued (notifications, dispatch suggestions):
   the intakes divided by stage plus drain time is the rate the whole system sustains, web,
   database and worker together on the same machine.
5. With `--receipts`, peak-hour intake receipts are on (GOVCRM_INTAKE_RECEIPTS=on, ADR 0023): the
   portal and Open311 answer once a checked request is kept, REST POSTs send `Prefer:
   respond-async` and get 202; the worker registers the receipts in batches. The intakes/s of a
   stage are then acknowledged ones; `--drain` gives the rate at which they are also registered.
6. Prints, per stage, requests/s and p50/p95/p99 per request kind, errors, intakes/s, the
   machine's CPU use and load average, and the CPU seconds our processes used (web, worker,
   PostgreSQL backends of the database, the load generator), hence the server CPU per intake —
   the figure that does not depend on what else runs on the machine.

Loopback only; every loop is bounded in time and count; all processes are stopped at the end.
Targets (issue 7): >= 200 intakes/s; p95 <= 200 ms for console pages.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"
INTAKE_TARGET = 200.0  # intakes per second
CONSOLE_P95_TARGET = 200.0  # ms
INTAKE_KINDS = ("portal POST /", "open311 POST", "api POST cases")
CONSOLE_KINDS = ("console overview", "console queue", "console search", "console case", "dispatch quality")

# Staff who use the console during the run (demo accounts) and the queues of their role.
STAFF = [
    ("dispatcher", ["to_dispatch", "to_review", "overdue", "to_follow_up"]),
    ("handler_street", ["to_accept", "in_progress", "due_soon", "overdue"]),
    ("manager_d1", ["to_accept", "in_progress", "due_soon", "overdue"]),
    ("supervisor", ["overdue", "due_soon", "to_review"]),
    ("handler_water", ["to_accept", "in_progress", "due_soon"]),
    ("handler_urban", ["to_accept", "in_progress", "overdue"]),
    ("agent", ["to_follow_up", "to_dispatch"]),
    ("dispatcher2", ["to_dispatch", "to_review"]),
]
SEARCH_WORDS = ["路灯", "停水", "物业 收费", "阿强烤鱼", "噪音", "light", "karaoke", "拖欠工资", "垃圾", "water"]
TEXTS = [
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
ROADS = ["和平路", "解放大道", "建设街", "人民路", "Heping Road", "Jiefang Avenue"]


# --- orchestration ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def govcrm(env: dict, *args: str, capture: bool = False) -> str:
    out = subprocess.run([sys.executable, "-m", "govcrm", *args], env=env, cwd=ROOT, check=True,
                         capture_output=capture, text=True)
    return out.stdout if capture else ""


def psql(sql: str, database: str = "postgres") -> str:
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-tAc", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def prepare(env: dict, args) -> dict:
    """The database with demo data, plus an API token, an Open311 key, areas and a few case numbers."""
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{args.database}'") == "1"
    cases = 0
    if exists and args.reuse:
        try:
            cases = int(psql("SELECT count(*) FROM cases_case", args.database) or 0)
        except subprocess.CalledProcessError:
            cases = 0
    if cases < args.demo_cases:
        psql(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        psql(f'CREATE DATABASE "{args.database}"')
        govcrm(env, "migrate", "-v0")
        started = time.monotonic()
        print(f"govcrm demo --cases {args.demo_cases} …", flush=True)
        govcrm(env, "demo", "--cases", str(args.demo_cases), "-v0", capture=True)
        print(f"  demo data in {time.monotonic() - started:.0f} s", flush=True)
    else:
        govcrm(env, "migrate", "-v0")
    script = (
        "import json, uuid\n"
        "from govcrm.organization.actions import api_token_create\n"
        "from govcrm.channels.open311.actions import open311_client_create\n"
        "from govcrm.organization.models import Area\n"
        "from govcrm.cases.models import Case\n"
        "from govcrm.demo.city import DEMO_PASSWORD\n"
        "token = api_token_create(username='agent', name='load-' + uuid.uuid4().hex[:8])\n"
        "_c, key = open311_client_create(name='load-' + uuid.uuid4().hex[:8])\n"
        "areas = list(Area.objects.filter(level='grid').values_list('code', flat=True)[:200])\n"
        "import datetime as dt\n"
        "from django.utils import timezone\n"
        "old = timezone.now() - dt.timedelta(hours=6)  # demo cases, not those of earlier load runs\n"
        "numbers = list(Case.objects.filter(created_at__lt=old).order_by('-created_at')\n"
        "               .values_list('number', flat=True)[:300])\n"
        "print('JSON' + json.dumps({'token': token, 'key': key, 'areas': areas, 'numbers': numbers,\n"
        "                           'password': DEMO_PASSWORD}))\n"
    )
    out = govcrm(env, "shell", "-c", script, capture=True)
    info = json.loads(out.split("JSON", 1)[1])
    info["cases"] = int(psql("SELECT count(*) FROM cases_case", args.database))
    return info


class Deployment:
    """`govcrm up` on a loopback port: gunicorn (2 web processes), the worker, the mail listener."""

    def __init__(self, env: dict, port: int, workers: int, threads: int | None, log: Path) -> None:
        self.port = port
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "govcrm", "up", "--host", "127.0.0.1", "--port", str(port), "--workers",
             str(workers), *(["--threads", str(threads)] if threads else []), "--demo-cases", "0"],
            env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"govcrm up exited ({self.proc.returncode}); see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError("govcrm up did not come up")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # `up` stops its children on SIGTERM
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _proc_stat(pid: int) -> tuple[int, str, float] | None:
    """(parent pid, command name, CPU seconds used) of a process, from /proc/<pid>/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[1]), name, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(root: int, database: str) -> dict[str, dict[int, float]]:
    """CPU seconds so far of the deployment's processes (web, worker, others) and of the
    PostgreSQL backends serving `database`, per pid."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _proc_stat(int(entry.name))
            if st:
                stats[int(entry.name)] = st
    children: dict[int, list[int]] = {}
    for pid, (ppid, _name, _cpu) in stats.items():
        children.setdefault(ppid, []).append(pid)
    out: dict[str, dict[int, float]] = {"web": {}, "worker": {}, "other": {}, "postgres": {}}
    todo = [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ") if pid in stats else b""
        kind = "web" if b"gunicorn" in cmdline else "worker" if b" worker" in cmdline else "other"
        if pid in stats:
            out[kind][pid] = stats[pid][2]
    backends = psql(f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'").split()
    for pid in map(int, backends):
        if pid in stats:
            out["postgres"][pid] = stats[pid][2]
    return out


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds per kind between two `server_cpu` snapshots (a process new since counts whole)."""
    return {kind: sum(cpu - before[kind].get(pid, 0.0) for pid, cpu in after[kind].items()) for kind in after}


# --- the load generator (runs in its own process) -----------------------------------------------


class Client:
    """One virtual user: a keep-alive HTTP connection and its cookies."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, str]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):  # a server may close an idle keep-alive connection: reconnect once
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            for raw in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = raw.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return response.status, text
        raise AssertionError("unreachable")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not found:
        raise RuntimeError("no CSRF token in the page")
    return found.group(1)


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.error_examples: dict[str, str] = {}
        self.count = 0

    def timed(self, kind: str, ok: set[int], fn):
        t = time.perf_counter()
        try:
            status, text = fn()
            good = status in ok
            detail = f"{status} {text[:120]!r}"
        except Exception as exc:  # any failure is counted and shown, not raised
            status, text, good, detail = 0, "", False, repr(exc)[:160]
        ms = (time.perf_counter() - t) * 1000
        with self.lock:
            self.count += 1
            if good:
                self.samples.setdefault(kind, []).append(ms)
            else:
                self.errors[kind] = self.errors.get(kind, 0) + 1
                self.error_examples.setdefault(kind, detail)
        return status, text


def intake_user(port: int, info: dict, rec: Recorder, stop: threading.Event, rng: random.Random) -> None:
    api = Client(port)
    o311 = Client(port)
    api_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {info['token']}"}
    while not stop.is_set():
        k = rng.randrange(len(TEXTS))
        text = TEXTS[k].format(road=rng.choice(ROADS))
        phone = f"139{rng.randrange(10_000_000, 99_999_999):08d}"
        pick = rng.random()
        if pick < 0.4:  # a citizen on the portal: the form, then the submission (a new visitor each time)
            portal = Client(port)
            status, html = rec.timed("portal GET /", {200}, lambda c=portal: c.request("GET", "/"))
            if status != 200:
                continue
            form = {"csrfmiddlewaretoken": csrf_of(html), "token": str(uuid.uuid4()), "category": CATEGORIES[k],
                    "case_type": "complaint", "description": text, "address": f"{rng.choice(ROADS)}12号",
                    "phone": phone}
            body = urllib.parse.urlencode(form).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "Referer": f"http://127.0.0.1:{port}/"}
            rec.timed("portal POST /", {302, 303},
                      lambda c=portal, b=body, h=headers: c.request("POST", "/", b, h))
            if portal.conn:
                portal.conn.close()
        elif pick < 0.7:
            form = {"api_key": info["key"], "service_code": CATEGORIES[k], "description": text,
                    "lat": f"{39.9 + rng.random() / 10:.5f}", "long": f"{116.4 + rng.random() / 10:.5f}",
                    "email": f"fms{rng.randrange(10**6)}@example.org"}
            body = urllib.parse.urlencode(form).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
            rec.timed("open311 POST", {200, 201},
                      lambda b=body, h=headers: o311.request("POST", "/open311/v2/requests.json", b, h))
        else:
            payload = {"category": CATEGORIES[k], "case_type": "complaint", "channel": "api", "description": text,
                       "area": rng.choice(info["areas"]) if info["areas"] else None,
                       "language": "en" if text.isascii() else "zh-hans",
                       "citizen": {"name": "测试", "phone": f"+86{phone}"}}
            body = json.dumps(payload, ensure_ascii=False).encode()
            headers = {**api_headers, "Idempotency-Key": str(uuid.uuid4())}
            if info.get("receipts"):
                headers["Prefer"] = "respond-async"
            rec.timed("api POST cases", {201, 202},
                      lambda b=body, h=headers: api.request("POST", "/api/v1/cases", b, h))


def console_user(port: int, info: dict, rec: Recorder, stop: threading.Event, rng: random.Random,
                 who: tuple[str, list[str]], password: str) -> None:
    username, queues = who
    c = Client(port)
    status, html = c.request("GET", "/console/login/")
    form = {"csrfmiddlewaretoken": csrf_of(html), "username": username, "password": password}
    status, _text = c.request("POST", "/console/login/", urllib.parse.urlencode(form).encode(),
                              {"Content-Type": "application/x-www-form-urlencoded",
                               "Referer": f"http://127.0.0.1:{port}/console/login/"})
    if status not in (302, 303):
        raise RuntimeError(f"sign-in of {username} failed ({status})")
    numbers = info["numbers"]
    while not stop.is_set():
        pick = rng.random()
        if pick < 0.25:
            rec.timed("console overview", {200}, lambda: c.request("GET", "/console/"))
        elif pick < 0.55:
            q = rng.choice(queues)
            rec.timed("console queue", {200}, lambda q=q: c.request("GET", f"/console/queues/{q}/"))
        elif pick < 0.80:
            word = urllib.parse.quote(rng.choice(SEARCH_WORDS))
            rec.timed("console search", {200}, lambda w=word: c.request("GET", f"/console/search/?q={w}"))
        elif pick < 0.95:
            number = rng.choice(numbers)
            # a unit's staff may not see every case: 404 is a correct answer, timed like a page
            rec.timed("console case", {200, 404}, lambda n=number: c.request("GET", f"/console/cases/{n}/"))
        else:
            rec.timed("dispatch quality", {200, 403}, lambda: c.request("GET", "/console/dispatch/"))


def drive(spec: dict) -> dict:
    """Run one stage: `intake` and `console` virtual users for `seconds` or until `max_requests`."""
    port, info = spec["port"], spec["info"]
    rec = Recorder()
    stop = threading.Event()
    threads = []
    for i in range(spec["intake"]):
        rng = random.Random(spec["seed"] * 1000 + i)
        threads.append(threading.Thread(target=intake_user, args=(port, info, rec, stop, rng), daemon=True))
    for i in range(spec["console"]):
        rng = random.Random(spec["seed"] * 1000 + 500 + i)
        who = STAFF[i % len(STAFF)]
        threads.append(threading.Thread(target=console_user, args=(port, info, rec, stop, rng, who,
                                                                   spec["password"]), daemon=True))
    busy0, total0 = cpu_times()
    started = time.perf_counter()
    for th in threads:
        th.start()
    deadline = started + spec["seconds"]
    while time.perf_counter() < deadline and rec.count < spec["max_requests"]:
        time.sleep(0.05)
    stop.set()
    for th in threads:
        th.join(timeout=60)
    elapsed = time.perf_counter() - started
    busy1, total1 = cpu_times()
    return {"seconds": elapsed, "samples": rec.samples, "errors": rec.errors, "examples": rec.error_examples,
            "cpu": (busy1 - busy0) / max(total1 - total0, 1), "load": os.getloadavg()[0]}


# --- reporting --------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))] if s else float("nan")


def report(phase: str, users: str, r: dict) -> dict:
    secs = r["seconds"]
    kinds = sorted(set(r["samples"]) | set(r["errors"]), key=lambda k: (k not in INTAKE_KINDS, k))
    intakes = sum(len(r["samples"].get(k, [])) for k in INTAKE_KINDS) / secs
    console = [ms for k in CONSOLE_KINDS for ms in r["samples"].get(k, [])]
    print(f"\n[{phase}] {users}: {secs:.1f} s, machine CPU {r['cpu'] * 100:.0f} %, load average {r['load']:.1f}")
    print(f"  {'request kind':<20} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'count':>7} {'errors':>6}")
    for k in kinds:
        v = r["samples"].get(k, [])
        print(f"  {k:<20} {len(v) / secs:>7.1f} {pct(v, 50):>8.1f} {pct(v, 95):>8.1f} {pct(v, 99):>8.1f} "
              f"{len(v):>7} {r['errors'].get(k, 0):>6}")
    summary = {"intakes_per_s": intakes, "console_p95": pct(console, 95) if console else None}
    line = f"  intakes/s {intakes:.1f} (target >= {INTAKE_TARGET:.0f})"
    if console:
        line += f"; console pages p95 {summary['console_p95']:.1f} ms (target <= {CONSOLE_P95_TARGET:.0f})"
    print(line)
    if "cpu_s" in r:
        n = sum(len(v) for v in r["samples"].values())
        used = ", ".join(f"{k} {v:.1f} s" for k, v in r["cpu_s"].items() if v >= 0.05)
        ours = sum(v for k, v in r["cpu_s"].items() if k != "load generator")
        print(f"  CPU used: {used}; server side {ours * 1000 / max(n, 1):.1f} ms per request")
        if intakes and not console:
            print(f"  server CPU per intake (its form page included) {ours * 1000 / (intakes * secs):.1f} ms: "
                  f"{2000 / max(ours * 1000 / (intakes * secs), 1e-9):.0f} intakes/s on 2 idle cores at most")
        summary["cpu_s"] = r["cpu_s"]
    for k, example in r["examples"].items():
        print(f"  first error of {k}: {example}")
    return summary


def settle(database: str, limit: float) -> None:
    """Wait (at most `limit` s) until the worker has run the periodic jobs it queues when it
    starts (warehouse refresh, hot topics, reminders: up to a minute each on 200,000 cases), so
    that the stages measure the steady state, not the first minutes after a start."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        busy = int(psql("SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status IN ('READY', "
                        "'RUNNING') AND (run_after <= now() OR run_after >= '9999-01-01')", database) or 0)
        if not busy:
            break
        time.sleep(2)
    print(f"worker settled after {time.perf_counter() - started:.0f} s", flush=True)


def drain(root: int, database: str, r: dict, limit: float) -> dict:
    """Wait (at most `limit` s, nothing else running) until the worker has done the background work
    the stage's intakes queued (notifications, dispatch suggestions), and report what that cost:
    the rate the whole system sustains is intakes ÷ (stage + drain time), with the CPU of both."""
    def backlog() -> int:
        # Jobs, and receipts not registered yet (one registrar job may stand for many of them).
        return int(psql("SELECT (SELECT count(*) FROM django_tasks_database_dbtaskresult "
                        "WHERE status IN ('READY', 'RUNNING') AND priority >= 0 "  # periodic jobs have less (worker.py)
                        "AND (run_after <= now() OR run_after >= '9999-01-01')) "
                        "+ (SELECT count(*) FROM channels_receipt WHERE state = 'pending')",
                        database) or 0)

    before = server_cpu(root, database)
    started, left = time.perf_counter(), backlog()
    first = left
    while left and time.perf_counter() - started < limit:
        time.sleep(1)
        left = backlog()
    seconds = time.perf_counter() - started
    used = cpu_used(before, server_cpu(root, database))
    intakes = sum(len(r["samples"].get(k, [])) for k in INTAKE_KINDS)
    total_cpu = sum(r["cpu_s"].get(k, 0) for k in ("web", "worker", "postgres")) + sum(used.values())
    out = {"jobs": first, "seconds": seconds, "left": left, "cpu_s": used,
           "sustained_per_s": intakes / (r["seconds"] + seconds),
           "cpu_ms_per_intake": total_cpu * 1000 / max(intakes, 1)}
    print(f"  background work queued by the stage: {first} jobs and pending receipts, done in {seconds:.1f} s"
          + (f" ({left} still queued at the {limit:.0f} s limit)" if left else "")
          + f" (worker {used.get('worker', 0):.1f} s CPU); stage + background: "
          f"{out['sustained_per_s']:.1f} intakes/s sustained, {out['cpu_ms_per_intake']:.1f} ms server CPU "
          f"per intake in all", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="govcrm_load")
    parser.add_argument("--demo-cases", type=int, default=200_000)
    parser.add_argument("--reuse", action="store_true", help="keep the database if it has the demo cases")
    parser.add_argument("--home", help="GOVCRM_HOME (default: <tmp>/govcrm-load-<database>, kept for --reuse)")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, help="threads per web process (default: govcrm up's)")
    parser.add_argument("--users", default="4,8,16", help="virtual users per stage of the ramp")
    parser.add_argument("--phases", default="intake,console,mixed")
    parser.add_argument("--stage-seconds", type=float, default=20.0)
    parser.add_argument("--max-requests", type=int, default=20_000, help="per stage, all kinds together")
    parser.add_argument("--json", help="write the raw figures to this file")
    parser.add_argument("--settle", type=float, default=300.0,
                        help="before the first stage wait up to this many seconds for the worker's start-up jobs")
    parser.add_argument("--receipts", action="store_true",
                        help="peak-hour receipts on (GOVCRM_INTAKE_RECEIPTS=on, ADR 0023): the portal and Open311 "
                             "answer once a request is kept, the API when asked with Prefer: respond-async")
    parser.add_argument("--drain", type=float, default=0.0,
                        help="after each intake stage wait up to this many seconds for the worker's backlog")
    parser.add_argument("--drive", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:  # the load generator process
        print(json.dumps(drive(json.loads(Path(args.drive).read_text()))))
        return

    # GOVCRM_HOME holds the field key the demo's phone numbers are encrypted with: one per database.
    home = args.home or str(Path(tempfile.gettempdir()) / f"govcrm-load-{args.database}")
    Path(home).mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOVCRM_HOME": home, "DATABASE_URL": f"{PG}/{args.database}",
           "DJANGO_SETTINGS_MODULE": "config.settings.local", "GOVCRM_LOG_LEVEL": "ERROR",
           "GOVCRM_SMTP_PORT": str(free_port()), "GOVCRM_RATE_LIMITS": "off",
           # As in production (docs/deploy.md), where nginx logs the requests and gunicorn does not.
           "GOVCRM_ACCESS_LOG": "off"}
    print(f"database {args.database} on 127.0.0.1:5432, GOVCRM_HOME {home}", flush=True)
    if args.receipts:
        env["GOVCRM_INTAKE_RECEIPTS"] = "on"
    info = prepare(env, args)
    info["receipts"] = args.receipts
    print(f"{info['cases']:,} cases in the database", flush=True)
    port = free_port()
    deployment = Deployment(env, port, args.web_workers, args.web_threads, Path(home) / "up.log")
    results: dict[str, dict] = {}
    try:
        deployment.wait_ready()
        settle(args.database, args.settle)
        ramp = [int(u) for u in args.users.split(",")]
        seed = 1
        for phase in args.phases.split(","):
            for users in ramp:
                intake_n = {"intake": users, "console": 0, "mixed": users // 2}[phase]
                console_n = users - intake_n
                spec = {"port": port, "info": info, "intake": intake_n, "console": console_n, "seed": seed,
                        "seconds": args.stage_seconds, "max_requests": args.max_requests, "password": info["password"]}
                seed += 1
                spec_file = Path(home) / "spec.json"
                spec_file.write_text(json.dumps(spec))
                before = server_cpu(deployment.proc.pid, args.database)
                gen0 = os.times()
                out = subprocess.run([sys.executable, __file__, "--drive", str(spec_file)], cwd=ROOT,
                                     capture_output=True, text=True, timeout=args.stage_seconds + 180)
                gen1 = os.times()
                if out.returncode != 0:
                    raise RuntimeError(f"load generator failed: {out.stderr[-2000:]}")
                r = json.loads(out.stdout)
                r["cpu_s"] = cpu_used(before, server_cpu(deployment.proc.pid, args.database))
                r["cpu_s"]["load generator"] = (gen1.children_user + gen1.children_system
                                                - gen0.children_user - gen0.children_system)
                label = f"{intake_n} intake + {console_n} console users"
                r["summary"] = report(phase, label, r)
                if intake_n and args.drain:
                    r["drain"] = drain(deployment.proc.pid, args.database, r, args.drain)
                results[f"{phase}/{users}"] = r
    finally:
        deployment.stop()
    best = max((r["summary"]["intakes_per_s"] for r in results.values()), default=0.0)
    p95s = [r["summary"]["console_p95"] for r in results.values() if r["summary"]["console_p95"] is not None]
    verdict = "met" if best >= INTAKE_TARGET else "NOT met"
    print(f"\nbest intakes/s {best:.1f} (target >= {INTAKE_TARGET:.0f}: {verdict})")
    if p95s:
        worst = max(p95s)
        print(f"worst console p95 {worst:.1f} ms (target <= {CONSOLE_P95_TARGET:.0f}: "
              f"{'met' if worst <= CONSOLE_P95_TARGET else 'NOT met'})")
    if args.json:
        Path(args.json).write_text(json.dumps({k: {kk: vv for kk, vv in v.items()} for k, v in results.items()}))


if __name__ == "__main__":
    main()
