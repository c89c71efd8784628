"""Online applications on the BPMN engine: time per step and size of the stored process state.

    .venv/bin/python bench/services.py [--n 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/govcrm_bench_svc .venv/bin/python bench/services.py

Uses the database DATABASE_URL selects (default: SQLite under a temporary GOVCRM_HOME), migrates it,
makes the three responsible units with a handler and a manager each, loads the shipped processes and
items, then runs `--n` senior-allowance applications end to end through the real actions: submit
(form and two PDF materials checked, process started: ID check, DMN table, first task), accept and
decide the handler's task, accept and decide the manager's task. Each step loads the workflow from
the database and stores it back. Prints p50/p95 per step in ms, wall clock and CPU of this process
(`time.process_time`: on a shared, loaded machine the wall clock mostly measures the others), and the
stored state's size.
"""

from __future__ import annotations

import argparse
import datetime as dt
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
    if not os.environ.get("DATABASE_URL") and not os.environ.get("GOVCRM_HOME"):
        os.environ["GOVCRM_HOME"] = tempfile.mkdtemp(prefix="govcrm-bench-svc-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    subprocess.run([sys.executable, "-m", "govcrm", "migrate", "-v0"], cwd=ROOT, check=True)
    import django

    django.setup()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    setup()
    from django.contrib.auth import get_user_model

    from govcrm.citizens.actions import citizen_find_or_create, citizen_input_clean
    from govcrm.organization.models import Role, StaffProfile, Unit
    from govcrm.services import actions
    from govcrm.services.integrations import id_number_with_check
    from govcrm.services.loading import load_catalogue, load_processes
    from govcrm.services.models import Application, ServiceItem, WorkItem

    centre, _ = Unit.objects.get_or_create(code="bench-centre", defaults={"name_zh": "中心", "kind": "centre"})
    users = {}
    for code in ("market", "police", "civil"):
        unit, _ = Unit.objects.get_or_create(code=code, defaults={"name_zh": code, "kind": "department",
                                                                  "parent": centre})
        for role in (Role.HANDLER, Role.MANAGER):
            user, created = get_user_model().objects.get_or_create(username=f"bench_{code}_{role}")
            if created:
                StaffProfile.objects.create(user=user, role=role, unit=unit)
            users[(code, role)] = user
    load_processes()
    load_catalogue()
    service = ServiceItem.objects.get(code="senior-allowance")
    citizen = citizen_find_or_create(data=citizen_input_clean(name="基准", email="bench@example.cn"))
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    uploads = [actions.Upload(key=k, name=f"{k}.pdf", data=pdf) for k in ("id_card", "hukou")]
    form = {"name": "老人", "id_number": id_number_with_check("11010119400301123"), "address": "和平街道1号",
            "residence_years": "40", "applicant_relation": "child"}
    times: dict[str, list[float]] = {"submit": [], "claim": [], "complete (handler)": [], "complete (manager)": []}
    cpu: dict[str, list[float]] = {k: [] for k in times}

    def timed(label, fn):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        times[label].append(time.perf_counter() - w)
        cpu[label].append(time.process_time() - c)
        return result

    sizes = []
    started = time.perf_counter()
    for _ in range(args.n):
        app = timed("submit", lambda: actions.application_submit(service=service, citizen=citizen, raw_form=form,
                                                                  uploads=uploads))
        sizes.append(len(Application.objects.get(pk=app.pk).workflow_state))
        for role, label in ((Role.HANDLER, "complete (handler)"), (Role.MANAGER, "complete (manager)")):
            item = WorkItem.objects.get(application=app, state="open")
            user = users[("civil", role)]
            timed("claim", lambda item=item, user=user: actions.work_item_claim(work_item_id=item.pk, actor=user))
            timed(label, lambda item=item, user=user: actions.work_item_complete(
                work_item_id=item.pk, actor=user, raw_answers={"decision": "approve"}))
        assert Application.objects.get(pk=app.pk).status == "approved"
    total = time.perf_counter() - started
    from django.db import connection

    print(f"database: {connection.vendor}; {args.n} senior-allowance applications end to end in {total:.1f} s "
          f"({args.n / total:.1f} applications/s, 5 steps each); {dt.datetime.now(dt.UTC):%Y-%m-%d}")
    for step, values in times.items():
        ms = [v * 1000 for v in values]
        cms = [v * 1000 for v in cpu[step]]
        print(f"  {step:<20} wall p50 {statistics.median(ms):6.1f} ms  p95 {pct(ms, 0.95):6.1f} ms   "
              f"CPU p50 {statistics.median(cms):6.1f} ms  p95 {pct(cms, 0.95):6.1f} ms")
    print(f"  stored state while waiting: median {statistics.median(sizes) / 1000:.1f} KB")


if __name__ == "__main__":
    main()
