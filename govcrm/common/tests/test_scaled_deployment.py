"""The scaled deployment, end to end: 2 gunicorn web processes and 2 RQ workers on PostgreSQL and Redis.

Same code as the embedded default, only configuration (GOVCRM_TASKS_BACKEND=rq, DATABASE_URL,
production settings; ADR 0012). Real HTTP traffic goes through both web processes — REST intakes
with Idempotency-Key retried on the other process, signed SMS webhooks replayed, staff moves — and
the database must hold every intake exactly once, every notification sent exactly once to the
local SMS gateway or SMTP server, with tasks run on both workers.

This test uses PostgreSQL and a private redis-server itself, in both CI passes (DATABASE_URL only
says which server to create its database on): the scaled deployment is PostgreSQL by definition.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest
import redis
from rq import Queue, Worker
from rq.job import Job

from govcrm.channels.sms.signatures import generic_signature
from govcrm.channels.sms.tests.provider import SmsProvider
from govcrm.common.management.commands.worker import PERIODIC
from govcrm.common.testing.processes import (
    Processes,
    SmtpSink,
    govcrm_env,
    govcrm_run,
    gunicorn_start,
    postgres_database,
    redis_start,
    rq_worker_names,
    wait_until,
    worker_start,
)

pytestmark = pytest.mark.slow

SMS_SECRET = "scale-test-sms-secret"
REST_INTAKES = 24  # half by phone (SMS notification), half by e-mail
SMS_INTAKES = 12


SETUP = """
import json
from django.core.management import call_command
from govcrm.demo.city import city_ensure
from govcrm.organization.actions import api_token_create
call_command("migrate", interactive=False, verbosity=0)
call_command("createcachetable")
city_ensure()
from govcrm.organization.models import StaffProfile
staff = StaffProfile.objects.select_related("unit", "user").filter(role="handler")
handlers = {p.unit.code: p.user.username for p in staff}
tokens = {u: api_token_create(username=u) for u in ("agent", "dispatcher", *handlers.values())}
tokens.update({"handler@" + unit: tokens[user] for unit, user in handlers.items()})
print(json.dumps(tokens))
"""


def _leaf(tree: list[dict]) -> str:
    node = tree[0]
    while node["children"]:
        node = node["children"][0]
    return node["code"]


def test_two_web_processes_and_two_workers_on_postgresql_and_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: bin/system-deps installs it")
    # the database is dropped last, once every process using it has stopped
    with postgres_database("govcrm_scale") as db_url, Processes() as procs, SmtpSink() as smtp:
        sms = SmsProvider(SMS_SECRET).start()
        try:
            _run(procs, db_url, smtp, sms, tmp_path)
        except BaseException:
            print(procs.logs())  # shown by pytest on failure
            raise
        finally:
            sms.stop()


def _run(procs: Processes, db_url: str, smtp: SmtpSink, sms: SmsProvider, tmp_path) -> None:
    broker = redis_start(procs)
    env = govcrm_env(database_url=db_url, home=tmp_path / "home", redis_url=broker.url,
                     EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp.port), GOVCRM_SMS_API_URL=sms.url,
                     GOVCRM_SMS_SECRET=SMS_SECRET, GOVCRM_MAIL_FROM="12345@city.example")
    started = time.monotonic()
    # gunicorn answers /healthz before the schema exists: the web processes start during migrate
    webs = [gunicorn_start(procs, env, name=f"web{i}", wait=False) for i in (1, 2)]
    # migrate; then the demo city and its staff, the shared cache table, a bearer token for each
    token = json.loads(govcrm_run(env, "shell", "-c", SETUP).strip().splitlines()[-1])
    timings = {"migrate and set up (web starting)": time.monotonic() - started}
    workers_started = time.monotonic()
    workers = [worker_start(procs, env, name=f"worker{i}") for i in (1, 2)]
    for web in webs:
        web.wait_ready()
    wait_until(lambda: len(rq_worker_names(broker.url)) == 2, 60, message="two RQ workers to register")
    timings["start 2 web + 2 workers"] = time.monotonic() - started - sum(timings.values())

    clients = [httpx.Client(base_url=w.url, timeout=30) for w in webs]
    try:
        category = _leaf(clients[0].get("/api/v1/categories").raise_for_status().json())

        # --- REST intakes, each POSTed to one process and retried with the same key on the other
        def rest_intake(i: int) -> tuple[str, str]:
            key = f"scale-{i}-{uuid.uuid4()}"
            citizen = ({"name": f"市民{i}", "phone": f"+86139{i:08d}"} if i % 2 else
                       {"name": f"Citizen {i}", "email": f"c{i}@example.org", "language": "en"})
            body = {"category": category, "case_type": "help", "description": f"第{i}号路灯不亮了，请修理。",
                    "citizen": citizen}
            headers = {"Authorization": f"Bearer {token['agent']}", "Idempotency-Key": key}
            first = clients[i % 2].post("/api/v1/cases", json=body, headers=headers)
            again = clients[(i + 1) % 2].post("/api/v1/cases", json=body, headers=headers)
            assert first.status_code == 201, first.text
            assert again.status_code == 200, again.text
            assert again.json()["number"] == first.json()["number"]
            return key, first.json()["number"]

        # --- SMS webhooks from the gateway, each delivered twice (once to each process)
        def sms_intake(i: int) -> str:
            gateway_id = f"gw-scale-{i}-{uuid.uuid4().hex[:8]}"
            body = json.dumps({"id": gateway_id, "from": f"+86137{i:08d}", "to": "12345",
                               "text": f"第{i}号井盖丢了，很危险。", "received_at": "2026-11-27T08:00:00+08:00"},
                              ensure_ascii=False).encode()
            headers = {"Content-Type": "application/json", "X-GovCRM-Signature": generic_signature(SMS_SECRET, body)}
            for client in (clients[i % 2], clients[(i + 1) % 2]):
                answer = client.post("/channels/sms/inbound", content=body, headers=headers)
                assert answer.status_code == 200, answer.text
            return gateway_id

        with ThreadPoolExecutor(8) as pool:
            rest = list(pool.map(rest_intake, range(REST_INTAKES)))
            gateway_ids = list(pool.map(sms_intake, range(SMS_INTAKES)))

        # --- staff moves through both processes: dispatch (web1), accept (web2) → "accepted" notices
        moved = [number for _, number in rest[:8]]

        def move(number: str) -> None:
            def act(client: httpx.Client, user: str, action: str, data: dict) -> dict:
                answer = client.post(f"/api/v1/cases/{number}/actions/{action}", json=data,
                                     headers={"Authorization": f"Bearer {token[user]}"})
                assert answer.status_code == 200, (action, answer.text)
                return answer.json()

            case = clients[0].get(f"/api/v1/cases/{number}", headers={"Authorization": f"Bearer {token['dispatcher']}"})
            case = case.raise_for_status().json()
            if case["status"] == "registered":  # no dispatch rule matched at intake
                case = act(clients[0], "dispatcher", "dispatch", {"unit": "gov-d1s1"})
            assert case["status"] == "dispatched", case["status"]
            act(clients[1], "handler@" + case["lead_unit"]["code"], "accept", {})

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(move, moved))
        timings["traffic"] = time.monotonic() - started - sum(timings.values())
    finally:
        for client in clients:
            client.close()

    # --- the database: every intake exactly once
    with psycopg.connect(db_url, autocommit=True) as db:
        def rows(sql: str, *params) -> list[tuple]:
            return db.execute(sql, params).fetchall()

        numbers = [n for _, n in rest]
        assert len(set(numbers)) == REST_INTAKES
        assert rows("SELECT count(*) FROM cases_case WHERE channel = 'api'") == [(REST_INTAKES,)]
        assert rows("SELECT count(*) FROM cases_idempotencyrecord")[0][0] >= REST_INTAKES
        sms_rows = rows("SELECT external_id, count(*) FROM channels_interaction WHERE channel = 'sms' "
                        "AND direction = 'in' GROUP BY external_id")
        assert sorted(sms_rows) == sorted((g, 1) for g in gateway_ids)
        assert rows("SELECT count(*) FROM cases_case WHERE channel = 'sms'") == [(SMS_INTAKES,)]

        # --- every notification sent, by the workers, once
        def all_sent() -> bool:
            pending = rows("SELECT count(*) FROM notifications_notification WHERE status <> 'sent'")[0][0]
            return pending == 0 and len(sms.messages) + len(smtp.messages) >= expected
        expected = REST_INTAKES + SMS_INTAKES + len(moved)  # "registered" for each, "accepted" for the moved
        by_status = "SELECT status, count(*) FROM notifications_notification GROUP BY 1"
        wait_until(all_sent, 40, interval=0.3,
                   message=lambda: f"{rows(by_status)}, {len(sms.messages)} SMS, {len(smtp.messages)} mails")
        timings["notifications drained"] = time.monotonic() - started - sum(timings.values())
        notes = rows("SELECT channel, kind, dedupe_key FROM notifications_notification")
        assert len(notes) == expected
        by = {(c, k): 0 for c, k, _ in notes}
        for c, k, _ in notes:
            by[(c, k)] += 1
        assert by == {("sms", "registered"): REST_INTAKES // 2 + SMS_INTAKES,
                      ("email", "registered"): REST_INTAKES // 2, ("sms", "accepted"): 4, ("email", "accepted"): 4}
        # what reached the citizens: each outbox row exactly once, under its own id
        sms_refs = sorted(m["client_ref"] for m in sms.messages)
        assert sms_refs == sorted(d for c, _, d in notes if c == "sms")
        assert sms.requests == len(sms_refs)  # no resend, not even one the gateway deduplicated
        # The demo city's staff subscribe to the weekly report (govcrm/reports): mailed once each by the two
        # workers together; the other mails are the outbox's.
        reports = [m["Message-ID"] for m in smtp.messages if m["Message-ID"].startswith("<report.")]
        assert len(reports) == len(set(reports)), reports
        mail_ids = sorted(m["Message-ID"] for m in smtp.messages if m["Message-ID"] not in reports)
        assert len(mail_ids) == len(set(mail_ids)) == by[("email", "registered")] + by[("email", "accepted")], [
            (m["Message-ID"], m["Subject"], m["To"]) for m in smtp.messages]
        for number in moved:
            assert any(number in m["Subject"] for m in smtp.messages) or any(number in m["text"] for m in sms.messages)

    # --- both workers did work (RQ counts each worker's finished jobs in Redis); each periodic job
    # was enqueued once for the two workers (the Redis claim), and no job failed
    with redis.Redis.from_url(broker.url) as conn:
        done = {w.name: w.successful_job_count for w in Worker.all(connection=conn)}
        queue = Queue("default", connection=conn)
        finished = Counter(job.func_name for job in Job.fetch_many(queue.finished_job_registry.get_job_ids(),
                                                                    connection=conn) if job)
        failed = {job.func_name: job.exc_info for job in Job.fetch_many(queue.failed_job_registry.get_job_ids(),
                                                                         connection=conn) if job}
    assert len(done) == 2 and all(n > 0 for n in done.values()), done
    assert failed == {}
    assert finished["govcrm.notifications.tasks.send_notification"] == expected
    # once per period for both workers together (two workers each enqueuing would make it twice)
    ran_for = time.monotonic() - workers_started
    allowed = {path: 1 + int(ran_for // every) for path, every in PERIODIC.items()}
    assert all(1 <= finished[path] <= allowed[path] for path in PERIODIC), (dict(finished), allowed)
    assert sum(allowed.values()) < 2 * len(PERIODIC)  # the test ran short enough to tell
    assert all(w.alive() for w in [*workers]), "a worker died"
    print({k: round(v, 1) for k, v in timings.items()}, done)  # the figures, seen with -s


def test_an_unknown_task_backend_is_refused_at_start(tmp_path):
    env = govcrm_env(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", home=tmp_path, GOVCRM_TASKS_BACKEND="celery")
    with pytest.raises(AssertionError, match="GOVCRM_TASKS_BACKEND must be 'database' or 'rq', not 'celery'"):
        govcrm_run(env, "check")
