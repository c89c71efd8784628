"""Faults while requests and messages flow: no acknowledged request is lost or doubled (issue 7, part 3).

Real processes on 127.0.0.1, as `govcrm up` runs them (gunicorn with 2 worker processes, `govcrm
worker`), on a fresh GOVCRM_HOME and database: the embedded SQLite default in the SQLite pass, a
PostgreSQL database of its own when DATABASE_URL is PostgreSQL. Client threads send a stream of
intakes through the three public intake doors — the portal form (its submission token), Open311
POSTs (their natural key) and REST intakes (Idempotency-Key) — and staff moves (dispatch, accept)
that queue SMS notifications to a local SMS gateway. Meanwhile the test SIGKILLs the web server's
process group and the worker, restarts them, and carries on. A request that got no answer is
retried as a client would: the same token, body or key. Then:

- every intake the client saw acknowledged (a case number) exists exactly once, under that number;
- every retried intake exists exactly once too, whether its first attempt had reached the database;
- every notification is sent, and each citizen's phone received exactly the messages its cases
  called for (registered, accepted), each once.

`test_broker_restarted_mid_run` does the same on the RQ backend and restarts Redis mid-stream;
`test_database_briefly_unreachable` cuts a TCP proxy between the processes and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import defusedxml.ElementTree as SafeET
import httpx
import pytest

from govcrm.channels.sms.tests.provider import SmsProvider
from govcrm.common.testing.processes import (
    Proc,
    Processes,
    govcrm_run,
    gunicorn_start,
    postgres_database,
    redis_start,
    wait_until,
    worker_start,
)
from govcrm.common.testing.tcpproxy import TcpProxy
from govcrm.demo.city import DEMO_PASSWORD

pytestmark = pytest.mark.slow

SMS_SECRET = "faults-test-sms-secret"
UNIT, HANDLER = "gov-d1s1", "handler_street"  # a demo street office and its handler
MARK = "FAULTS-JSON:"
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))

# Every case with its description's marker and whether it is whole (its citizen, its register event,
# the contact that opened it for the channels that keep one), and every notification about a case.
INVENTORY = f"""
import json, re
from govcrm.cases.models import Case, CaseEvent
from govcrm.channels.models import Interaction, Receipt
from govcrm.notifications.models import Notification
first = dict(CaseEvent.objects.filter(seq=1).values_list("case_id", "action"))
contact = set(Interaction.objects.filter(direction="in").values_list("case_id", flat=True))
def whole(c):
    return (c.citizen_id is not None and first.get(c.pk) == "register"
            and (c.channel not in ("portal", "open311") or c.pk in contact))
cases = [[c.number, c.channel, m.group(1) if (m := re.search(r"\\[req-(\\d+)\\]", c.description)) else None,
          whole(c)] for c in Case.objects.all()]
notes = [[n.dedupe_key, n.case.number, n.kind, n.channel, n.status]
         for n in Notification.objects.filter(case__isnull=False).select_related("case")]
unregistered = Receipt.objects.exclude(state="registered").count()
print("{MARK}" + json.dumps({{"cases": cases, "notes": notes, "unregistered": unregistered}}))
"""


def inventory(env: dict[str, str]) -> dict:
    return json.loads(govcrm_run(env, "shell", "-c", INVENTORY).split(MARK, 1)[1])


@contextlib.contextmanager
def database(tmp: Path, tag: str) -> Iterator[str]:
    """The database of one deployment: PostgreSQL (a new database named after DATABASE_URL's) in the
    PostgreSQL pass, else the embedded default's SQLite file."""
    if ON_POSTGRES:
        own = os.environ["DATABASE_URL"].rsplit("/", 1)[1].split("?")[0] or "govcrm"
        with postgres_database(f"{own}_faults_{tag}"[:40]) as url:
            yield url
    else:
        yield f"sqlite:///{tmp / 'home' / 'govcrm.sqlite3'}"


def gateway() -> SmsProvider:
    """The local SMS gateway (made slow just before a kill of the worker, see run_with_kills)."""
    return SmsProvider(SMS_SECRET).start()


def embedded_env(home: Path, database_url: str, sms: SmsProvider, **extra: str) -> dict[str, str]:
    """`govcrm up`'s environment (local settings, secrets kept in the home) on this home and database."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GOVCRM_", "DJANGO_", "DATABASE_URL", "PYTEST_", "EMAIL_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "GOVCRM_HOME": str(home),
        "DATABASE_URL": database_url,
        "GOVCRM_SMS_API_URL": sms.url,
        "GOVCRM_SMS_SECRET": SMS_SECRET,
        "GOVCRM_RATE_LIMITS": "off",  # one client address sends everything
        # A worker SIGKILLed after claiming a notification leaves it claimed for the lease: short
        # here, with a frequent sweep, so that the test sees the re-send within its time.
        "GOVCRM_NOTIFY_LEASE_SECONDS": "3",
        "GOVCRM_NOTIFY_SWEEP_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
        **extra,
    })
    return env


# What `govcrm up` does before it starts the processes (migrate, cache table, demo city without cases),
# plus bearer tokens and an Open311 client: in one process, to keep the test short.
PREPARE = f"""
import json
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("createcachetable", verbosity=0)
call_command("demo", cases=0, verbosity=0)
from govcrm.channels.open311.actions import open311_client_create
from govcrm.organization.actions import api_token_create
tokens = {{u: api_token_create(username=u) for u in ("agent", "dispatcher", "{HANDLER}")}}
tokens["open311"] = open311_client_create(name="faults-fms")[1]
print("{MARK}" + json.dumps(tokens))
"""


def prepare(env: dict[str, str]) -> dict[str, str]:
    """Migrate, the demo city without cases, and bearer tokens; returns the tokens by user."""
    return json.loads(govcrm_run(env, "shell", "-c", PREPARE).split(MARK, 1)[1])


def crash(proc: Proc) -> None:
    """SIGKILL the process, its group and every descendant, as a machine that dies takes them all: an
    RQ worker's work horse runs in a process group of its own and would survive the group's kill."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    todo, tree = [proc.pid], []
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    proc.signal_group(signal.SIGKILL)
    for pid in tree[1:]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    proc.kill()  # reaps it


def web_start(procs: Processes, env: dict[str, str]) -> Proc:
    """gunicorn as `govcrm up` runs it: 2 synchronous worker processes."""
    return gunicorn_start(procs, env, workers=2, threads=1)


# --- the client side ----------------------------------------------------------------------------------


@dataclass
class Request:
    """One intake as the client keeps it until it is acknowledged: the same bytes on every retry."""

    n: int
    door: str  # portal, open311, rest
    key: str  # submission token, Idempotency-Key, or (Open311) the marker of the body
    phone: str
    number: str | None = None
    token: str | None = None  # Open311 with receipts: acknowledged with a token, the number polled for
    attempts: int = 0
    replayed: bool = False  # a retry answered "already registered" (REST, Open311; the portal does not say)
    moves: list[str] = field(default_factory=list)  # moves to make on the case (dispatch, accept)
    accepted: bool = False  # the accept move was acknowledged (or found already made)


class Traffic:
    """Client threads sending intakes and staff moves; unanswered requests are kept for retry."""

    def __init__(self, base_url: str, tokens: dict[str, str], category: str, *, receipts: bool = False):
        self.base_url, self.tokens, self.category = base_url, tokens, category
        self.receipts = receipts  # peak-hour receipts (ADR 0023): answered first, registered by the worker
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        self.stop = threading.Event()
        self.errors: list[str] = []  # answers no fault explains (a 4xx, a 500): the test fails on them
        self.unanswered = 0
        self.threads: list[threading.Thread] = []

    # one HTTP attempt; None when there was no usable answer (connection refused or reset, timeout, 502/503)
    def _post(self, client: httpx.Client, url: str, **kwargs) -> httpx.Response | None:
        try:
            answer = client.post(url, **kwargs)
        except httpx.TransportError:
            self.unanswered += 1
            return None
        if answer.status_code in (502, 503, 504):
            self.unanswered += 1
            return None
        return answer

    def _portal_csrf(self, client: httpx.Client) -> str | None:
        try:
            page = client.get("/")
        except httpx.TransportError:
            return None
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        return found.group(1) if found else None

    def send(self, client: httpx.Client, req: Request) -> bool:
        """One attempt at the intake; True once it is acknowledged with a case number."""
        req.attempts += 1
        text = f"[req-{req.n}] 和平街{req.n}号路灯不亮，晚上很黑。"
        if req.door == "rest":
            prefer = {"Prefer": "respond-async"} if self.receipts else {}
            answer = self._post(client, "/api/v1/cases", headers={
                "Authorization": f"Bearer {self.tokens['agent']}", "Idempotency-Key": req.key, **prefer},
                json={"category": self.category, "case_type": "help", "description": text,
                      "citizen": {"name": f"市民{req.n}", "phone": req.phone}})
            ok = answer is not None and answer.status_code in ((200, 201, 202) if self.receipts else (200, 201))
            number = answer.json()["number"] if ok else None
            replay = ok and answer.status_code == 200 and not self.receipts
        elif req.door == "open311":
            answer = self._post(client, "/open311/v2/requests.json", data={
                "api_key": self.tokens["open311"], "service_code": self.category, "description": text,
                "lat": "39.9", "long": "116.4", "phone": req.phone})
            ok = answer is not None and answer.status_code in (200, 201)
            first = answer.json()[0] if ok else {}
            number, req.token = first.get("service_request_id"), first.get("token") or req.token
            ok = ok and bool(number or (self.receipts and req.token))
            replay = ok and answer.status_code == 200
        else:
            csrf = self._portal_csrf(client)
            if csrf is None:
                self.unanswered += 1
                return False
            answer = self._post(client, "/", data={
                "csrfmiddlewaretoken": csrf, "token": req.key, "category": self.category, "case_type": "help",
                "description": text, "phone": req.phone.removeprefix("+86")})
            found = re.search(r"/submitted/(\d+)/", answer.headers.get("location", "")) if answer else None
            ok, number, replay = found is not None, found.group(1) if found else None, False
        if answer is not None and not ok:
            self.errors.append(f"{req.door} #{req.n}: {answer.status_code} {answer.text[:300]}")
        if ok:
            req.number, req.replayed = number, replay or req.replayed
        return ok

    def resolve(self, client: httpx.Client, req: Request) -> bool:
        """An Open311 token's service_request_id, once the worker has registered the receipt."""
        try:
            answer = client.get(f"/open311/v2/tokens/{req.token}.json")
        except httpx.TransportError:
            return False
        if answer.status_code in (502, 503, 504):
            return False
        if answer.status_code != 200:
            self.errors.append(f"token {req.token}: {answer.status_code} {answer.text[:300]}")
            return False
        req.number = answer.json()[0].get("service_request_id")
        return req.number is not None

    def move(self, client: httpx.Client, req: Request) -> bool:
        """The next staff move on the request's case; True when it is done (acknowledged or found made)."""
        action = req.moves[0]
        user, data = ("dispatcher", {"unit": UNIT}) if action == "dispatch" else (HANDLER, {})
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        answer = self._post(client, f"/api/v1/cases/{req.number}/actions/{action}", json=data, headers=headers)
        if answer is None:
            return False
        if answer.status_code == 404 and self.receipts:  # a receipt not registered yet: try again
            return False
        if answer.status_code == 409:  # not allowed in this state: an unanswered attempt made it already?
            try:
                status = client.get(f"/api/v1/cases/{req.number}", headers=headers).json()["status"]
            except (httpx.TransportError, ValueError, KeyError):
                return False
            done = {"dispatch": ("dispatched", "accepted"), "accept": ("accepted",)}[action]
            if status not in done:
                self.errors.append(f"{action} on {req.number}: 409 in status {status}")
                return False
        elif answer.status_code != 200:
            self.errors.append(f"{action} on {req.number}: {answer.status_code} {answer.text[:300]}")
            return False
        req.moves.pop(0)
        req.accepted = req.accepted or action == "accept"
        return True

    def _loop(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10, follow_redirects=False) as client:
            while not self.stop.is_set():
                n = next(self.counter)
                door = ("rest", "portal", "open311")[n % 3]
                key = str(uuid.uuid4()) if door != "open311" else f"req-{n}"
                req = Request(n=n, door=door, key=key, phone=f"+86138{n:08d}",
                              moves=["dispatch", "accept"] if n % 2 else [])
                with self.lock:
                    self.requests.append(req)
                # As a client does: an unanswered request is sent again (same bytes) before the next one.
                while not self.stop.is_set() and not self.errors and not self.send(client, req):
                    time.sleep(0.2)
                if self.receipts:  # registered later by the worker: tokens and moves are left to finish()
                    time.sleep(0.2)  # a client's pace: the backlog finish() works off stays bounded
                    continue
                while req.number and req.moves and not self.stop.is_set() and not self.errors \
                        and not self.move(client, req):
                    time.sleep(0.2)
                if self.errors:
                    return

    def start(self, threads: int = 3) -> None:
        self.threads = [threading.Thread(target=self._loop, daemon=True, name=f"traffic-{i}") for i in range(threads)]
        for t in self.threads:
            t.start()

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)

    def acknowledged(self) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.number or r.token)

    def finish(self, timeout: float = 30) -> None:
        """Retry every unanswered intake and move (same token, body, key) until answered."""
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=10, follow_redirects=False) as client:
            for req in self.requests:
                while not (req.number or req.token) and not self.errors and time.monotonic() < deadline:
                    if not self.send(client, req):
                        time.sleep(0.2)
                while req.token and not req.number and not self.errors and time.monotonic() < deadline:
                    if not self.resolve(client, req):
                        time.sleep(0.2)
                while req.number and req.moves and not self.errors and time.monotonic() < deadline:
                    if not self.move(client, req):
                        time.sleep(0.2)
        assert not self.errors, self.errors
        left = [r.n for r in self.requests if not r.number or r.moves]
        assert not left, f"requests still unanswered after {timeout} s: {left}"


# --- the checks --------------------------------------------------------------------------------------


def check_exactly_once(traffic: Traffic, env: dict[str, str], sms: SmsProvider) -> dict:
    """Every request's case exactly once under its number; every notification sent, once per citizen's phone."""
    expected_kinds = {r.phone: Counter(["accepted"] * r.accepted + ["registered"] * (r.door == "rest"))
                      for r in traffic.requests}

    expected_total = sum(sum(c.values()) for c in expected_kinds.values())
    # Peak-hour receipts: each is registered (by the worker, in batches) before anything is compared.
    wait_until(lambda: inventory(env)["unregistered"] == 0, 90, interval=1,
               message=lambda: f"receipts still unregistered: {inventory(env)['unregistered']}")
    wait_until(lambda: len(sms.messages) >= expected_total, 60, interval=0.2,
               message=lambda: f"{expected_total} notifications; outbox: {inventory(env)['notes']}")
    inv = inventory(env)
    assert all(n[4] == "sent" for n in inv["notes"]), inv["notes"]
    cases_by_marker: dict[str, list[str]] = {}
    for number, _channel, marker, _whole in inv["cases"]:
        cases_by_marker.setdefault(marker, []).append(number)
    assert [c for c in inv["cases"] if not c[3]] == []  # no partial write: every case whole
    for req in traffic.requests:
        assert cases_by_marker.get(str(req.n)) == [req.number], (req, cases_by_marker.get(str(req.n)))
    assert len(inv["cases"]) == len(traffic.requests)  # nothing else: no case without its request
    # Notifications: one row per (case event, channel) by construction; the gateway dedupes a re-sent
    # client_ref (a worker killed between its send and its commit); each phone got what its cases called for.
    # (The demo city's own messages — application outcomes, reminders — are not this traffic's: only
    # the messages about its cases are compared; their references start with the case number.)
    numbers = {c[0] for c in inv["cases"]}
    sent = {m["client_ref"]: m for m in sms.messages if m["client_ref"].split(":", 1)[0] in numbers}
    assert sorted(sent) == sorted(n[0] for n in inv["notes"])
    received = Counter()
    for note in inv["notes"]:
        received[(sent[note[0]]["to"], note[2])] += 1
    got = {phone: Counter({k: c for (p, k), c in received.items() if p == phone}) for phone in expected_kinds}
    assert got == expected_kinds
    return {"requests": len(traffic.requests), "notifications": len(sent), "gateway_calls": sms.requests,
            "sent_again_after_a_kill": sms.requests - len({m["client_ref"] for m in sms.messages}),
            "unanswered_attempts": traffic.unanswered,
            "retried": sum(1 for r in traffic.requests if r.attempts > 1),
            "answered_as_replay": sum(1 for r in traffic.requests if r.replayed)}


def run_with_kills(procs: Processes, env: dict[str, str], tokens: dict[str, str], web: Proc, worker: Proc,
                   sms: SmsProvider, *, rounds: int = 2, restart_also: Proc | None = None,
                   receipts: bool = False) -> dict:
    """Traffic, `rounds` times SIGKILL and restart of the web server and the worker (and of
    `restart_also`, e.g. the broker), then every request finished and the exactly-once checks."""
    category = "urban.lighting.out"
    traffic = Traffic(web.url.rstrip("/"), tokens, category, receipts=receipts)
    traffic.start()
    kills_during_a_send = 0
    try:
        for round_ in range(rounds):
            target = traffic.acknowledged() + 8
            wait_until(lambda t=target: traffic.acknowledged() >= t or traffic.errors, 60,
                       message="intakes to be acknowledged")
            assert not traffic.errors, traffic.errors
            victims = [web, worker] if restart_also is None else [restart_also]
            if restart_also is not None and round_ == rounds - 1:
                victims = [restart_also, web, worker]
            if worker in victims:
                # Kill while the worker waits for the gateway's answer: the message is then at the
                # gateway but not marked sent, and is sent again after the lease (same client_ref).
                # (Up to 45 s: the worker also runs the demo city's periodic jobs — warehouse, reports,
                # identity matching — between the sends, slowly on a loaded machine.)
                sms.delay = 1.0
                with contextlib.suppress(AssertionError):
                    wait_until(lambda: sms.answering > 0, 45, interval=0.02)
                kills_during_a_send += sms.answering > 0
            for proc in victims:
                crash(proc)
            sms.delay = 0.0
            time.sleep(0.5)
            if web not in victims:  # the broker alone is down: intake goes on without it
                down = traffic.acknowledged() + 3
                wait_until(lambda d=down: traffic.acknowledged() >= d or traffic.errors, 30,
                           message="intakes acknowledged while the broker is down")
            for proc in victims:
                proc.start()
        target = traffic.acknowledged() + 6
        wait_until(lambda: traffic.acknowledged() >= target or traffic.errors, 60,
                   message="intakes after the last restart")
    finally:
        traffic.join()
    traffic.finish(timeout=180 if receipts else 30)
    return {**check_exactly_once(traffic, env, sms), "kills_during_a_send": kills_during_a_send}


@pytest.mark.parametrize("receipts", [False, True], ids=["registered-at-once", "peak-hour-receipts"])
def test_sigkill_of_web_and_worker_loses_and_doubles_nothing(tmp_path, receipts):
    """With peak-hour receipts (ADR 0023) the worker killed mid-batch must leave every receipt to be
    registered once by its successor, under the number the client was given."""
    sms = gateway()
    with Processes() as procs, database(tmp_path, "kill") as db_url:
        env = embedded_env(tmp_path / "home", db_url, sms, GOVCRM_INTAKE_RECEIPTS="on" if receipts else "off")
        try:
            started = time.monotonic()
            tokens = prepare(env)
            web = web_start(procs, env)
            worker = worker_start(procs, env)
            ready = time.monotonic()
            figures = run_with_kills(procs, env, tokens, web, worker, sms, rounds=2, receipts=receipts)
            figures["seconds"] = {"prepare_and_start": round(ready - started, 1),
                                  "traffic_kills_checks": round(time.monotonic() - ready, 1)}
        except BaseException:
            print(procs.logs())  # shown by pytest on failure
            raise
        finally:
            sms.stop()
    assert figures["unanswered_attempts"] > 0, "the kills must have met requests in flight"
    assert figures["kills_during_a_send"] > 0, "a kill must have met a notification being sent"
    assert figures["sent_again_after_a_kill"] >= figures["kills_during_a_send"]
    print(f"faults/sigkill ({'receipts' if receipts else 'direct'}):", json.dumps(figures))


def _through(url: str, proxy: TcpProxy) -> str:
    """`url` with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{proxy.port}" if user else f"127.0.0.1:{proxy.port}"))


def probe_during_outage(base_url: str, tokens: dict[str, str], console_cookies: httpx.Cookies,
                        portal_csrf: tuple[httpx.Cookies, str]) -> dict[str, httpx.Response]:
    """One request of each kind while the database is cut; each must be a clean 503 in its format."""
    cookies, csrf = portal_csrf
    answers = {}
    with httpx.Client(base_url=base_url, timeout=15, follow_redirects=False) as c:
        answers["api"] = c.post("/api/v1/cases", json={
            "category": "urban.lighting.out", "case_type": "help", "description": "[outage-api] 路灯不亮"},
            headers={"Authorization": f"Bearer {tokens['agent']}", "Idempotency-Key": "outage-api",
                     "Accept-Language": "en"})
        answers["open311_json"] = c.post("/open311/v2/requests.json", data={
            "api_key": tokens["open311"], "service_code": "urban.lighting.out", "description": "[outage-o311]",
            "lat": "39.9", "long": "116.4"})
        answers["open311_xml"] = c.post("/open311/v2/requests.xml", data={
            "api_key": tokens["open311"], "service_code": "urban.lighting.out", "description": "[outage-o311x]",
            "lat": "39.9", "long": "116.4", "locale": "en"})
        answers["healthz"] = c.get("/healthz")
    with httpx.Client(base_url=base_url, timeout=15, cookies=cookies, headers={"Accept-Language": "en"}) as c:
        answers["portal"] = c.post("/", data={
            "csrfmiddlewaretoken": csrf, "token": str(uuid.uuid4()), "category": "urban.lighting.out",
            "case_type": "help", "description": "[outage-portal] 和平街路灯不亮"})
    with httpx.Client(base_url=base_url, timeout=15, cookies=console_cookies) as c:
        answers["console"] = c.get("/console/")  # in the staff member's language: zh-hans for the demo staff
    return answers


def _signed_in(base_url: str, username: str) -> httpx.Cookies:
    with httpx.Client(base_url=base_url, timeout=15) as c:
        page = c.get("/console/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        done = c.post("/console/login/", data={"csrfmiddlewaretoken": csrf, "username": username,
                                               "password": DEMO_PASSWORD})
        assert done.status_code == 302, done.text[:500]
        return c.cookies


def _portal_csrf(base_url: str) -> tuple[httpx.Cookies, str]:
    with httpx.Client(base_url=base_url, timeout=15) as c:
        page = c.get("/")
        return c.cookies, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL is reached over the network, the embedded SQLite file is "
                    "not: the PostgreSQL pass cuts a TCP proxy; test_outage.py fails statements on both databases")
def test_database_briefly_unreachable(tmp_path):
    sms = gateway()
    with Processes() as procs, database(tmp_path, "cut") as direct_url:
        target = urlsplit(direct_url)
        with TcpProxy(target.hostname or "127.0.0.1", target.port or 5432) as proxy:
            env = embedded_env(tmp_path / "home", _through(direct_url, proxy), sms)
            try:
                tokens = prepare(env)
                web = web_start(procs, env)
                worker = worker_start(procs, env)
                base = web.url.rstrip("/")
                console, portal = _signed_in(base, "dispatcher"), _portal_csrf(base)
                traffic = Traffic(base, tokens, "urban.lighting.out")
                traffic.start()
                try:
                    wait_until(lambda: traffic.acknowledged() >= 9 or traffic.errors, 60, message="first intakes")
                    proxy.cut()
                    cut_at = time.monotonic()
                    answers = probe_during_outage(base, tokens, console, portal)
                    time.sleep(max(0.0, 4 - (time.monotonic() - cut_at)))
                    acknowledged_during_cut = traffic.acknowledged()
                    proxy.restore()
                    outage = time.monotonic() - cut_at
                    # Back without intervention: no process restarted, traffic flows again.
                    wait_until(lambda: traffic.acknowledged() >= acknowledged_during_cut + 9 or traffic.errors, 60,
                               message="intakes after the database came back")
                    recovered = time.monotonic() - cut_at - outage
                finally:
                    traffic.join()
                assert web.alive() and worker.alive(), "no process may die of the outage"
                traffic.finish()
                # also: the notifications queued after the outage are sent by the same worker
                figures = check_exactly_once(traffic, env, sms)
            except BaseException:
                print(procs.logs())
                raise
            finally:
                sms.stop()
    for name, r in answers.items():
        assert r.status_code == 503, (name, r.status_code, r.text[:500])
    assert answers["api"].json() == {"code": "database_unavailable", "details": {},
                                     "message": "The service is briefly unavailable. Nothing was saved; "
                                                "please try again in a few seconds."}
    assert answers["api"].headers["Retry-After"] == "5"
    [error] = answers["open311_json"].json()
    assert error["code"] == 503 and "服务暂时不可用" in error["description"]
    xml = SafeET.fromstring(answers["open311_xml"].content)
    assert xml.tag == "errors" and xml.find("error/code").text == "503"
    assert "briefly unavailable" in xml.find("error/description").text
    assert "<title>Service briefly unavailable" in answers["portal"].text
    assert "<title>服务暂时不可用" in answers["console"].text
    assert answers["healthz"].json()["database"] == "unreachable"
    # Nothing written by the refused probes: check_exactly_once found no case beyond the traffic's.
    figures.update(outage_seconds=round(outage, 1), recovered_seconds_after=round(recovered, 1),
                   refused_connections=proxy.refused)
    print("faults/database-cut:", json.dumps(figures))


@pytest.mark.skipif(not ON_POSTGRES, reason="the broker-backed deployment is the scaled one, on PostgreSQL: "
                    "this runs in the PostgreSQL pass")
def test_broker_restarted_mid_run(tmp_path):
    """RQ on a private redis-server without persistence: a restart loses every queued job. Restarted
    twice mid-stream (the second time with the web server and the worker SIGKILLed too)."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: bin/system-deps installs it")
    sms = gateway()
    with Processes() as procs, database(tmp_path, "broker") as db_url:
        try:
            broker = redis_start(procs, appendonly=False)
            env = embedded_env(tmp_path / "home", db_url, sms, GOVCRM_TASKS_BACKEND="rq",
                               GOVCRM_REDIS_URL=broker.url)
            tokens = prepare(env)
            web = web_start(procs, env)
            worker = worker_start(procs, env)
            figures = run_with_kills(procs, env, tokens, web, worker, sms, rounds=2, restart_also=broker)
            # Notifications queued while Redis was down could not be enqueued: only the sweep sent them.
            figures["enqueues_lost_with_the_broker"] = web.log().count("could not enqueue notification")
            assert figures["enqueues_lost_with_the_broker"] > 0
            assert figures["sent_again_after_a_kill"] >= figures["kills_during_a_send"]
        except BaseException:
            print(procs.logs())
            raise
        finally:
            sms.stop()
    print("faults/broker-restart:", json.dumps(figures))
