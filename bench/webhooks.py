"""What webhooks cost at intake, and how fast the outbox drains to a receiver on 127.0.0.1.

    .venv/bin/python bench/webhooks.py [--intakes 300] [--rounds 3]

In-process, on a fresh SQLite database under a temporary GOVCRM_HOME (or DATABASE_URL when set),
with the `make run` settings (django-tasks-db: an enqueue is a row). A small city with a dispatch
rule, so that each intake is a registration and a dispatch (two case events). Three set-ups, in
alternating rounds of --intakes registrations each:

  none       no subscriber at all
  unmatched  three subscribers whose filters never match (another unit's subtree)
  matched    three subscribers that receive everything

For each: milliseconds per intake (mean, p50, p95) and the SQL statements per intake (all of
them, and INSERTs into the webhook outbox), counted with Django's query capture. Then the
deliveries written by the `matched` rounds are sent by `webhooks_sweep` to a real HTTP receiver
on 127.0.0.1 (the tests' receiver, checking every signature) and the rate is printed.
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
sys.path.insert(0, str(ROOT))


def setup() -> None:
    if not os.environ.get("DATABASE_URL"):
        os.environ["GOVCRM_HOME"] = tempfile.mkdtemp(prefix="govcrm-bench-webhooks-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    subprocess.run([sys.executable, "-m", "govcrm", "migrate", "-v0"], env=dict(os.environ), cwd=ROOT, check=True)
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--intakes", type=int, default=300, help="registrations per round and set-up")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    setup()

    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from govcrm.cases.actions import CaseInput, case_register
    from govcrm.cases.tests.factories import dispatch_rule
    from govcrm.citizens.actions import citizen_input_clean
    from govcrm.common.reference import invalidate
    from govcrm.integration.actions import subscriber_create, webhooks_sweep
    from govcrm.integration.models import Delivery, Subscriber
    from govcrm.integration.tests.receiver import Receiver
    from govcrm.organization.tests.factories import small_city

    city = small_city()
    dispatch_rule("urban.lighting.out", city.street1)
    agent = city.actor("agent")
    receiver = Receiver()
    made = {kind: [subscriber_create(name=f"{kind}-{i}", url=receiver.url,
                                     unit=city.water if kind == "unmatched" else None) for i in range(3)]
            for kind in ("unmatched", "matched")}
    receiver.secret = [secret for _sub, secret in made["matched"]]

    def configure(kind: str) -> None:
        Subscriber.objects.update(active=False)
        Subscriber.objects.filter(name__startswith=f"{kind}-").update(active=True)
        invalidate()  # .update() goes around the models' save(): clear the reference cache ourselves

    def one(i: int) -> None:
        case_register(actor=agent, data=CaseInput(
            category="urban.lighting.out", case_type="complaint", description=f"和平街{i}号路灯不亮，晚上很黑。",
            area="d1s1g1", channel="phone",
            citizen=citizen_input_clean(name="张三", phone=f"+86138{i % 100000000:08d}")))

    results: dict[str, dict[str, list[float]]] = {k: {"ms": [], "sql": [], "outbox": []}
                                                  for k in ("none", "unmatched", "matched")}
    n = 0
    for _round in range(args.rounds):
        for kind in ("none", "unmatched", "matched"):
            configure(kind)
            one(n)  # warm the reference cache
            n += 1
            for _ in range(args.intakes):
                reset_queries()  # the query log keeps 9,000 entries: a full one would capture nothing
                with CaptureQueriesContext(connection) as q:
                    started = time.perf_counter()
                    one(n)
                    results[kind]["ms"].append((time.perf_counter() - started) * 1000)
                n += 1
                sqls = [x["sql"] for x in q.captured_queries]
                results[kind]["sql"].append(len(sqls))
                outbox = sum(1 for s in sqls if s.startswith('INSERT INTO "integration_delivery"'))
                results[kind]["outbox"].append(outbox)

    print(f"database: {connection.vendor}; {args.rounds} rounds × {args.intakes} intakes per set-up "
          "(registration + dispatch by rule: 2 case events each)")
    print(f"{'set-up':<10} {'mean ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'SQL/intake':>11} {'outbox INSERTs':>15}")
    for kind, r in results.items():
        ms = sorted(r["ms"])
        print(f"{kind:<10} {statistics.mean(ms):8.2f} {ms[len(ms) // 2]:8.2f} {ms[int(len(ms) * 0.95)]:8.2f} "
              f"{statistics.mean(r['sql']):11.1f} {statistics.mean(r['outbox']):15.1f}")

    pending = Delivery.objects.filter(status="pending", subscriber__active=True).count()
    started = time.perf_counter()
    delivered = 0
    while True:
        done = webhooks_sweep(limit=500)
        delivered += done
        if not done:
            break
    seconds = time.perf_counter() - started
    bad = sum(1 for r in receiver.all() if not r.signature_ok)
    print(f"drain: {delivered} of {pending} pending deliveries in {seconds:.1f} s = {delivered / seconds:.0f}/s "
          f"to a receiver on 127.0.0.1 (one after the other; {bad} bad signatures)")
    receiver.stop()


if __name__ == "__main__":
    main()
