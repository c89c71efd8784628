"""The warehouse refresh: what lands in each table, no personal data in clear, the incremental
path (late changes, re-categorisation, repair of late events) equal to a full rebuild, the lock,
the export, the command and the periodic task."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from django.core.management import call_command

from govcrm.analytics.warehouse import WarehouseBusy, connect, refresh, schema, source
from govcrm.analytics.warehouse.refresh import refresh as run_refresh
from govcrm.cases.models import Case, CaseEvent
from govcrm.cases.tests.factories import OTHER_LEAF, move, register
from govcrm.cases.workflow import Status

pytestmark = pytest.mark.django_db


def snapshot(path: Path) -> dict[str, list]:
    """Every table of the warehouse, rows sorted, timestamps as text."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for table in (*schema.FACTS, *schema.DIMENSIONS):
            cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            select = ", ".join(f"CAST({c} AS VARCHAR)" for c in cols)
            out[table] = con.execute(f"SELECT {select} FROM {table} ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


def lifecycle(city, case, rng: random.Random) -> None:
    """A random but legal walk of a case through the lifecycle."""
    d, s, a = city.actor("dispatcher"), city.actor("street_handler"), city.actor("agent")
    steps = rng.randint(0, 7)
    if steps == 0:
        return
    unit = rng.choice(["gov-d1s1", "urban"])
    move(d, case, "dispatch", unit=unit)
    handler = s if unit == "gov-d1s1" else city.actor("urban_handler")
    if steps == 1:
        return
    if rng.random() < 0.3:
        move(handler, case, "return", reason_code="not_our_duty")
        if rng.random() < 0.5:
            move(city.actor("supervisor"), case, "arbitrate", reason="职责明确")
        else:
            move(d, case, "reclassify", category=OTHER_LEAF)
            move(d, case, "dispatch", unit="gov-d1s1")
            handler = s
    if steps == 2:
        return
    move(handler, case, "accept")
    if steps >= 4:
        move(handler, case, "contact", method="phone")
    if steps >= 5:
        move(handler, case, "reply", reply="已处理。")
        move(d, case, "review")
    if steps >= 6:
        move(a, case, "follow_up", resolved=rng.random() < 0.8, satisfied=rng.random() < 0.7)


def test_full_refresh_loads_the_star_without_personal_data(city):
    case = register(city.actor("agent"), citizen={"name": "李四", "phone": "+8613912345678"},
                    address="和平街12号")
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    result = run_refresh()
    assert result.full and result.cases == 1 and result.events == 2 and result.citizens == 1
    con = connect(read_only=True)
    try:
        row = con.execute("SELECT number, status, unit_key, citizen_key, month_key FROM fact_case").fetchone()
        assert row[0] == case.number and row[1] == "dispatched" and row[2] == city.street1.pk
        assert row[3] == source.citizen_key(case.citizen_id) and len(row[3]) == 32
        assert str(case.citizen_id) != row[3]
        handling = con.execute("SELECT unit_key, via, outcome FROM fact_case_handling").fetchall()
        assert handling == [(city.street1.pk, "dispatch", None)]
        assert con.execute("SELECT street_key, district_key FROM dim_unit WHERE code = 'gov-d1s1'").fetchone() == (
            city.street1.pk, city.district.pk)
        assert con.execute("SELECT l1_code, l3_code FROM dim_category WHERE code = ?",
                           [case.category.code]).fetchone() == (case.category.code.split(".")[0],
                                                                case.category.code)
        assert con.execute("SELECT population_effective, district_key FROM dim_area WHERE code = 'd1s1g1'"
                           ).fetchone() == (5_000, city.district_area.pk)
        assert con.execute("SELECT count(*) FROM dim_date WHERE date_key = ?",
                           [int(case.created_at.strftime("%Y%m%d"))]).fetchone()[0] == 1
        # No name, phone number, address or description anywhere, in any text column of any table.
        for table in (*schema.FACTS, *schema.DIMENSIONS):
            cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[1] == "VARCHAR"]
            for col in cols:
                hits = con.execute(f"SELECT count(*) FROM {table} WHERE {col} LIKE '%李四%' OR {col} LIKE "
                                   f"'%13912345678%' OR {col} LIKE '%和平街12号%' OR {col} LIKE '%路灯坏了%'"
                                   ).fetchone()[0]
                assert hits == 0, (table, col)
    finally:
        con.close()


def test_incremental_refresh_equals_full_rebuild_after_random_changes(city, settings, tmp_path, monkeypatch):
    # No overlap and no id slack: the incremental path reads only what changed.
    monkeypatch.setattr(refresh, "OVERLAP", refresh.dt.timedelta(0))
    monkeypatch.setattr(refresh, "ID_SLACK", 0)
    monkeypatch.setattr(refresh, "SEGMENT_EVERY", refresh.dt.timedelta(0))
    rng = random.Random(6)
    agent = city.actor("agent")
    cases = [register(agent, area=rng.choice(["d1s1g1", "d2", None]), channel=rng.choice(["phone", "portal"]))
             for _ in range(14)]
    for case in cases:
        lifecycle(city, case, rng)
    from govcrm.channels.models import Interaction

    for case in cases[::2]:
        Interaction.objects.create(channel=case.channel, citizen=case.citizen, case=case, content="来电")
    from govcrm.analytics.tests.test_behaviour import T0, application, search, service, view

    item = service(city)
    apps = [application(item, case.citizen, f"SQ20260310{i:05d}", "started", started=T0 + refresh.dt.timedelta(hours=i))
            for i, case in enumerate(cases[:5])]
    for i in range(6):
        search(f"s{i % 3}".ljust(32, "0"), rng.choice(["居住证", "狗证"]), rng.randint(0, 2),
               T0 + refresh.dt.timedelta(minutes=i))
        view(f"s{i % 3}".ljust(32, "0"), "help:search", "/help/", T0 + refresh.dt.timedelta(minutes=i))
    first = run_refresh()
    assert first.full and first.cases == 14
    incremental_path = settings.GOVCRM_WAREHOUSE

    # Random changes: new cases, late status changes of old cases, re-categorisation, a reopen, a merge.
    time.sleep(0.01)
    new = [register(agent, channel="wechat") for _ in range(3)]
    for case in new:
        lifecycle(city, case, rng)
    d = city.actor("dispatcher")
    changed = 0
    for case in cases:
        case = Case.objects.get(pk=case.pk)
        if case.status == Status.REGISTERED:
            move(d, case, "reclassify", category=OTHER_LEAF)
            changed += 1
        elif case.status == Status.FOLLOW_UP:
            move(agent, case, "follow_up", resolved=False, satisfied=False)
            move(d, case, "reopen", reason="市民不满意")
            changed += 1
        elif case.status == Status.ACCEPTED and rng.random() < 0.5:
            handler = city.actor("street_handler" if case.lead_unit_id == city.street1.pk else "urban_handler")
            move(handler, case, "reply", reply="迟到的答复。")
            changed += 1
    Interaction.objects.create(channel="sms", citizen=new[0].citizen, case=new[0], content="短信")
    # Applications move on (late decisions) and new ones start; page views click earlier searches.
    for app in apps[:3]:
        app.status, app.submitted_at = "submitted", T0 + refresh.dt.timedelta(days=1)
        app.save()
    apps[0].status, apps[0].decided_at = "approved", T0 + refresh.dt.timedelta(days=2)
    apps[0].save()
    application(item, new[0].citizen, "SQ2026031100001", "started", started=T0 + refresh.dt.timedelta(days=1))
    for i in range(6):
        view(f"s{i % 3}".ljust(32, "0"), "help:article", "/help/<int:article_id>/",
             T0 + refresh.dt.timedelta(minutes=i, seconds=30), kind="article", ref=str(i),
             query=rng.choice(["居住证", "狗证"]))
    search("s9".ljust(32, "0"), "社保", 0, T0 + refresh.dt.timedelta(hours=1))
    Interaction.objects.filter(case=cases[0]).update(citizen=None)  # as retention does, with a move below
    move(city.actor("supervisor"), cases[0], "note", reason="留存期满")  # the case is saved
    open_ = [c for c in Case.objects.exclude(status=Status.CLOSED).order_by("pk")]
    if len(open_) >= 2:
        move(d, open_[0], "merge", into=open_[1].number)
        changed += 1
    assert changed >= 3

    second = run_refresh()
    assert not second.full
    assert second.cases < Case.objects.count()  # only what changed was read again
    incremental = snapshot(incremental_path)

    settings.GOVCRM_WAREHOUSE = tmp_path / "rebuilt.duckdb"
    run_refresh()
    rebuilt = snapshot(settings.GOVCRM_WAREHOUSE)
    for table in incremental:
        assert incremental[table] == rebuilt[table], table
    assert len(incremental["fact_case"]) == Case.objects.count()
    assert len(incremental["fact_case_event"]) == CaseEvent.objects.count()
    assert len(incremental["fact_application"]) == 6 and len(incremental["fact_page_view"]) == 12
    assert len(incremental["fact_search"]) == 7
    assert any(row[-3] is not None for row in incremental["fact_search"])  # some searches led to a click
    assert incremental["dim_segment"]
    # A second incremental run with nothing new changes nothing.
    settings.GOVCRM_WAREHOUSE = incremental_path
    run_refresh()
    assert snapshot(incremental_path) == incremental


def test_events_missing_from_the_warehouse_are_repaired(city, monkeypatch):
    """An event whose id was allocated early but committed after a refresh is read again by case."""
    monkeypatch.setattr(refresh, "OVERLAP", refresh.dt.timedelta(0))
    monkeypatch.setattr(refresh, "ID_SLACK", 0)
    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    move(city.actor("street_handler"), case, "accept")
    run_refresh()
    con = connect()
    con.execute("DELETE FROM fact_case_event WHERE seq = 2")  # as if the dispatch event had been missed
    con.close()
    move(city.actor("street_handler"), case, "contact")
    result = run_refresh()
    assert result.repaired_cases == 1
    con = connect(read_only=True)
    assert [r[0] for r in con.execute("SELECT action FROM fact_case_event ORDER BY seq").fetchall()] == [
        "register", "dispatch", "accept", "contact"]
    assert con.execute("SELECT first_unit_key FROM fact_case").fetchone()[0] == city.street1.pk
    con.close()


def test_a_second_process_is_refused_while_one_holds_the_warehouse(city, warehouse_file):
    run_refresh()
    code = textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(warehouse_file)!r})
        print("locked", flush=True)
        time.sleep(30)
    """)
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(WarehouseBusy):
            run_refresh()
    finally:
        holder.kill()
        holder.wait()


def test_command_refresh_and_export_parquet_by_month(city, tmp_path, capsys):
    for _ in range(3):
        case = register(city.actor("agent"))
        move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    call_command("warehouse", "refresh", "--no-progress")
    out = tmp_path / "parquet"
    call_command("warehouse", "export", "--out", str(out))
    month = Case.objects.first().created_at.astimezone(refresh.calendar_from_db().tz).strftime("%Y%m")
    assert (out / "fact_case" / f"month_key={month}").is_dir()
    assert (out / "dim_unit.parquet").is_file()
    con = duckdb.connect()
    rows = con.execute(f"SELECT count(*), min(month_key) FROM read_parquet('{out}/fact_case/*/*.parquet', "
                       "hive_partitioning = true)").fetchone()
    assert rows == (3, int(month))
    assert con.execute(f"SELECT count(*) FROM read_parquet('{out}/fact_case_event/*/*.parquet')").fetchone()[0] == 6
    # Export again: replaced, not appended.
    call_command("warehouse", "export", "--out", str(out))
    assert con.execute(f"SELECT count(*) FROM read_parquet('{out}/fact_case/*/*.parquet')").fetchone()[0] == 3


def test_periodic_task_refreshes(city):
    from govcrm.analytics.tasks import refresh_warehouse
    from govcrm.common.management.commands.worker import PERIODIC

    assert "govcrm.analytics.tasks.refresh_warehouse" in PERIODIC
    register(city.actor("agent"))
    refresh_warehouse.enqueue()  # the immediate backend of the test settings runs it now
    con = connect(read_only=True)
    assert con.execute("SELECT count(*) FROM fact_case").fetchone()[0] == 1
    con.close()


def test_export_before_any_refresh_is_a_clear_error(city, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="refresh"):
        call_command("warehouse", "export", "--out", str(tmp_path / "x"))


def test_a_warehouse_from_another_database_is_rebuilt(city):
    """After a restore of an older backup the last loaded event no longer matches: full rebuild."""
    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    run_refresh()
    assert not run_refresh().full
    con = connect()
    con.execute("INSERT INTO fact_case (case_id, number) VALUES (999999, 'from-elsewhere')")
    con.execute("UPDATE fact_case_event SET action = 'accept' WHERE event_id = (SELECT max(event_id) "
                "FROM fact_case_event)")
    con.close()
    result = run_refresh()
    assert result.full
    con = connect(read_only=True)
    assert con.execute("SELECT count(*) FROM fact_case WHERE case_id = 999999").fetchone()[0] == 0
    con.close()


def test_retention_reaches_the_interactions_of_a_reloaded_case(city, monkeypatch):
    """Retention unlinks the citizen from a closed case's contacts and saves the case: the
    warehouse's pseudonymous key goes from those contacts at the next refresh."""
    from govcrm.channels.models import Interaction

    monkeypatch.setattr(refresh, "OVERLAP", refresh.dt.timedelta(0))
    monkeypatch.setattr(refresh, "ID_SLACK", 0)
    case = register(city.actor("agent"))
    Interaction.objects.create(channel="phone", citizen=case.citizen, case=case, content="来电")
    Interaction.objects.create(channel="sms", citizen=case.citizen, content="短信")  # no case
    run_refresh()
    con = connect(read_only=True)
    assert con.execute("SELECT count(citizen_key) FROM fact_interaction").fetchone()[0] == 2
    con.close()
    Interaction.objects.filter(case=case).update(citizen=None)
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")  # the case is saved again
    result = run_refresh()
    assert result.cases == 1
    con = connect(read_only=True)
    assert con.execute("SELECT count(*), count(citizen_key) FROM fact_interaction").fetchone() == (2, 1)
    assert con.execute("SELECT citizen_key FROM fact_interaction WHERE case_id = ?", [case.pk]).fetchone() == (None,)
    con.close()
