"""Warehouse benchmark: rate queries on 10,000,000 cases, and the refresh of 1,000,000 changed cases.

    .venv/bin/python bench/warehouse.py [--part query|refresh|both] [--cases 10000000]
                                        [--changed 1000000] [--repeat 5]

query   — generates `--cases` cases directly in a fresh DuckDB warehouse (DuckDB-side, from
          `range()` and hashes: a city of 16 districts, 320 streets, 30 departments, 3,200 grids,
          300 leaf categories, 24 months), then times, median of `--repeat` after a warm-up:
          the monthly three-rate ranking by street (metrics.three_rate_ranking), one rate's
          ranking (metrics.ranking) and the overview of 12 months (metrics.overview: volumes and
          every case rate per month), each against a hand-written DuckDB query computing the
          same figures on the same tables. Targets: each ≤ 1 s and ≤ 1.5× the hand-written one.
refresh — in a temporary GOVCRM_HOME (SQLite): the demo city, then `--changed` cases with five
          events each written straight into SQLite; a full refresh; then every one of those
          cases changes (a follow-up closes it, one in ten is re-categorised, one event each)
          and the incremental refresh that loads them is timed (the command in its own process, as
          the worker runs it; the time it prints, and the wall time with process start). Target ≤ 60 s.
Nothing is downloaded; all data is generated here.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MONTH = 202406


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def compare(ours, hand, repeat: int) -> tuple[float, float, object, object]:
    """Median seconds of two functions, run alternately (the machine is shared: a burst of other
    work then slows both sides alike), after one warm-up each."""
    ours_result, hand_result = ours(), hand()
    a, b = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        ours_result = ours()
        a.append(time.perf_counter() - t)
        t = time.perf_counter()
        hand_result = hand()
        b.append(time.perf_counter() - t)
    return statistics.median(a), statistics.median(b), ours_result, hand_result


# --- part 1: queries on generated cases ---------------------------------------------------------------

GENERATE = """
INSERT INTO dim_unit (unit_key, code, name_zh, name_en, kind, path, depth, parent_key, department_key,
                      district_key, street_key, active)
SELECT 1, 'centre', '热线中心', 'Centre', 'centre', '/centre/', 1, NULL, NULL, NULL, NULL, true
UNION ALL
SELECT 2 + i, 'dept' || i, '委办局' || i, 'Department ' || i, 'department', '/centre/dept' || i || '/', 2, 1,
       2 + i, NULL, NULL, true FROM range(30) t(i)
UNION ALL
SELECT 100 + i, 'd' || i, '区' || i, 'District ' || i, 'district', '/centre/d' || i || '/', 2, 1, NULL, 100 + i,
       NULL, true FROM range(16) t(i)
UNION ALL
SELECT 1000 + i, 'd' || (i // 20) || 's' || i, '街道' || i, 'Street ' || i, 'street',
       '/centre/d' || (i // 20) || '/d' || (i // 20) || 's' || i || '/', 3, 100 + i // 20, NULL, 100 + i // 20,
       1000 + i, true FROM range(320) t(i);

INSERT INTO dim_area (area_key, code, name_zh, name_en, level, path, parent_key, population, population_effective,
                      district_key, street_key, grid_key)
SELECT 100 + i, 'a' || i, '区' || i, 'District ' || i, 'district', '/a' || i || '/', NULL, 300000 + 25000 * i,
       300000 + 25000 * i, 100 + i, NULL, NULL FROM range(16) t(i)
UNION ALL
SELECT 1000 + i, 'a' || (i // 20) || 's' || i, '街道' || i, 'Street ' || i, 'street', '', 100 + i // 20,
       20000 + 100 * i, 20000 + 100 * i, 100 + i // 20, 1000 + i, NULL FROM range(320) t(i)
UNION ALL
SELECT 10000 + i, 'g' || i, '网格' || i, 'Grid ' || i, 'grid', '', 1000 + i // 10, 2000 + i % 500, 2000 + i % 500,
       100 + i // 200, 1000 + i // 10, 10000 + i FROM range(3200) t(i);

INSERT INTO dim_category (category_key, code, name_zh, name_en, level, l1_key, l1_code, l1_name_zh, l1_name_en,
                          l2_key, l2_code, l2_name_zh, l2_name_en, l3_key, l3_code, l3_name_zh, l3_name_en, active)
SELECT 1000 + i, 'c' || i, '类' || i, 'Category ' || i, 3, 1 + i // 25, 'c1_' || (i // 25), '一级' || (i // 25),
       'Top ' || (i // 25), 100 + i // 5, 'c2_' || (i // 5), '二级' || (i // 5), 'Middle ' || (i // 5),
       1000 + i, 'c' || i, '类' || i, 'Category ' || i, true FROM range(300) t(i);

CREATE OR REPLACE TEMP TABLE raw AS
SELECT i AS case_id,
       TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds((hash(i, 1) % (731 * 86400))::BIGINT) AS registered_at,
       (hash(i, 2) % 100)::BIGINT AS u, (hash(i, 3) % 100)::BIGINT AS r1, (hash(i, 4) % 100)::BIGINT AS r2,
       (hash(i, 5) % 100)::BIGINT AS r3, (hash(i, 6) % 100)::BIGINT AS r4, (hash(i, 7) % 1000000007)::BIGINT AS h
FROM range({n}) t(i);

INSERT INTO fact_case (case_id, number, case_type, urgency, channel, category_key, area_key, unit_key,
                       citizen_key, status, close_reason, merged, created_at, registered_at, date_key, month_key,
                       dispatched_at, accepted_at, first_contact_at, replied_at, closed_at, accept_due,
                       contact_due, reply_due, dispatch_count, return_count, reopen_count, supervision_level,
                       resolved, satisfied, rating, version, first_unit_key, first_dispatch_accurate,
                       round_contact_at, transfer_count, arbitrate_count, follow_up_count, counted, contact_done,
                       contact_ok, accept_ok, reply_ok)
SELECT case_id, 'B' || case_id,
       ['inquiry', 'help', 'complaint', 'report', 'suggestion', 'praise'][1 + h % 6],
       'normal',
       ['phone', 'portal', 'wechat', 'sms', 'email', 'open311'][1 + (h // 7) % 6],
       1000 + (h // 11) % 300, 10000 + (h // 13) % 3200,
       CASE WHEN u < 70 THEN 1000 + (h // 17) % 320 WHEN u < 90 THEN 2 + (h // 17) % 30 ELSE 100 + (h // 17) % 16 END,
       md5(case_id::VARCHAR)[:32],
       CASE WHEN r4 < 85 THEN 'closed' WHEN r4 < 92 THEN 'replied' ELSE 'in_progress' END,
       CASE WHEN r4 >= 85 THEN '' WHEN r1 = 0 THEN 'merged' WHEN r1 = 1 THEN 'withdrawn'
            WHEN r1 < 9 THEN 'first_contact' ELSE 'followed_up' END,
       r4 < 85 AND r1 = 0,
       registered_at, registered_at,
       year(registered_at) * 10000 + month(registered_at) * 100 + day(registered_at),
       year(registered_at) * 100 + month(registered_at),
       registered_at + INTERVAL 10 MINUTE, registered_at + to_seconds((r3 * 300)::BIGINT),
       registered_at + to_seconds((r2 * 1200)::BIGINT),
       CASE WHEN r4 < 92 THEN registered_at + INTERVAL 5 DAY + to_seconds((r3 * 12000)::BIGINT) END,
       CASE WHEN r4 < 85 THEN registered_at + INTERVAL 15 DAY END,
       registered_at + INTERVAL 4 HOUR, registered_at + INTERVAL 1 DAY, registered_at + INTERVAL 15 DAY,
       1, (r2 < 4)::INTEGER, (r3 < 3)::INTEGER, 0,
       CASE WHEN r4 < 85 AND r1 >= 9 THEN r2 < 85 END,
       CASE WHEN r4 < 85 AND r1 >= 9 THEN r3 < 80 END,
       CASE WHEN r4 < 85 AND r1 >= 9 THEN 1 + r3 % 5 END,
       6,
       CASE WHEN u < 70 THEN 1000 + (h // 17) % 320 WHEN u < 90 THEN 2 + (h // 17) % 30 ELSE 100 + (h // 17) % 16 END,
       CASE WHEN r4 < 92 THEN r2 >= 6 END,
       registered_at + to_seconds((r2 * 1200)::BIGINT),
       0, 0, CASE WHEN r4 < 85 AND r1 >= 9 THEN 1 ELSE 0 END,
       NOT (r4 < 85 AND r1 IN (0, 1)), true, r2 <= 72, r3 <= 48, r4 < 92 AND r3 <= 72
FROM raw ORDER BY registered_at;  -- loaded in time order, as the refresh appends cases
DROP TABLE raw;
"""

Z = 1.959963984540054


def hand_wilson_low(k: str, n: str) -> str:
    return (f"(({k}::DOUBLE / {n} + {Z * Z} / (2.0 * {n})) / (1 + {Z * Z} / {n}) - {Z} * sqrt({k}::DOUBLE / {n} "
            f"* (1 - {k}::DOUBLE / {n}) / {n} + {Z * Z} / (4.0 * {n} * {n})) / (1 + {Z * Z} / {n}))")


# The same figures as metrics.three_rate_ranking, written by hand in one statement.
HAND_THREE_RATES = """
WITH c AS (
    SELECT u.street_key,
           count_if(f.counted AND f.contact_due IS NOT NULL
                            AND (f.contact_done OR f.contact_due <= $as_of)) AS n_resp,
           count_if(f.counted AND f.contact_due IS NOT NULL
                            AND f.contact_ok) AS k_resp,
           count_if(f.counted AND f.resolved IS NOT NULL) AS n_res,
           count_if(f.counted AND f.resolved) AS k_res,
           count_if(f.counted AND f.satisfied IS NOT NULL) AS n_sat,
           count_if(f.counted AND f.satisfied) AS k_sat
    FROM fact_case f JOIN dim_unit u ON u.unit_key = f.unit_key
    WHERE f.month_key = $month AND u.street_key IS NOT NULL
    GROUP BY u.street_key
)
SELECT c.*, s.name_zh,
       k_resp / n_resp AS resp, k_res / n_res AS res, k_sat / n_sat AS sat,
       rank() OVER (ORDER BY k_resp / n_resp DESC) AS rank_resp,
       rank() OVER (ORDER BY k_res / n_res DESC) AS rank_res,
       rank() OVER (ORDER BY k_sat / n_sat DESC) AS rank_sat,
       {low_sat} AS low_sat
FROM c JOIN dim_unit s ON s.unit_key = c.street_key
ORDER BY low_sat DESC
""".replace("{low_sat}", hand_wilson_low("k_sat", "n_sat"))

HAND_OVERVIEW = """
SELECT month_key, count(*) AS registered,
       count_if(counted) AS counted,
       count_if(closed_at IS NOT NULL) AS closed,
       count_if(counted AND contact_due IS NOT NULL
                        AND (contact_done OR contact_due <= $as_of)) AS n_resp,
       count_if(counted AND contact_ok) AS k_resp,
       count_if(counted AND resolved IS NOT NULL) AS n_res,
       count_if(counted AND resolved) AS k_res,
       count_if(counted AND satisfied IS NOT NULL) AS n_sat,
       count_if(counted AND satisfied) AS k_sat,
       count_if(counted AND accept_due IS NOT NULL
                        AND (accepted_at IS NOT NULL OR (status = 'dispatched' AND accept_due <= $as_of))) AS n_acc,
       count_if(counted AND accept_ok) AS k_acc,
       count_if(counted AND reply_due IS NOT NULL
                        AND (replied_at IS NOT NULL OR (closed_at IS NULL AND reply_due <= $as_of))) AS n_rep,
       count_if(counted AND reply_ok) AS k_rep,
       count_if(counted
                        AND first_dispatch_accurate IS NOT NULL) AS n_fda,
       count_if(counted AND first_dispatch_accurate) AS k_fda,
       count_if(counted AND follow_up_count > 0) AS n_reo,
       count_if(counted AND follow_up_count > 0
                        AND reopen_count > 0) AS k_reo,
       count_if(counted AND close_reason = 'first_contact') AS k_fcr
FROM fact_case WHERE month_key BETWEEN 202401 AND 202412 GROUP BY month_key ORDER BY month_key
"""


def part_query(args) -> None:
    import datetime as dt

    import duckdb

    from govcrm.analytics import metrics
    from govcrm.analytics.warehouse import schema

    folder = Path(tempfile.mkdtemp(prefix="govcrm-bench-warehouse-"))
    con = duckdb.connect(str(folder / "bench.duckdb"))
    con.execute("SET TimeZone = 'UTC'")
    schema.ensure(con)
    started = time.perf_counter()
    con.execute(GENERATE.replace("{n}", str(args.cases)))
    con.execute("CHECKPOINT")
    size = (folder / "bench.duckdb").stat().st_size / 2**20
    print(f"generated {args.cases:,} cases in {time.perf_counter() - started:.1f} s "
          f"({size:,.0f} MiB on disk, peak RSS {rss_mb():,.0f} MiB)", flush=True)
    as_of = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    in_month = con.execute("SELECT count(*) FROM fact_case WHERE month_key = ?", [MONTH]).fetchone()[0]
    print(f"cases in {MONTH}: {in_month:,}")

    def hand_three() -> list:
        return con.execute(HAND_THREE_RATES, {"month": MONTH, "as_of": as_of}).fetchall()

    ours, hand, ranked, hand_rows = compare(
        lambda: metrics.three_rate_ranking(con, MONTH, "street", as_of=as_of), hand_three, args.repeat)
    assert len(ranked) == len(hand_rows) == 320
    by_street = {r[0]: r for r in hand_rows}
    for row in ranked:  # same numbers both ways
        h = by_street[row["k0"]]
        assert (row["n_response"], row["k_response"], row["n_satisfaction"], row["k_satisfaction"]) == (
            h[1], h[2], h[5], h[6]), (row, h)
    report("three-rate ranking by street, one month", ours, hand)

    ours, hand, rows, _ = compare(lambda: metrics.ranking(con, "satisfaction", "street", MONTH, as_of=as_of),
                                  hand_three, args.repeat)
    report("satisfaction ranking by street, one month (vs the hand-written three-rate query)", ours, hand)

    ours, hand, rows, hand_rows = compare(lambda: metrics.overview(con, (202401, 202412), as_of=as_of),
                                          lambda: con.execute(HAND_OVERVIEW, {"as_of": as_of}).fetchall(), args.repeat)
    assert [r["registered"] for r in rows] == [h[1] for h in hand_rows]
    assert [r["k_satisfaction"] for r in rows] == [h[9] for h in hand_rows]
    report("overview: 12 months, volumes and every case rate", ours, hand)
    con.close()
    print(f"peak RSS {rss_mb():,.0f} MiB")


def report(name: str, ours: float, hand: float) -> None:
    ratio = ours / hand if hand else float("inf")
    verdict = "OK" if ours <= 1.0 and ratio <= 1.5 else "MISSED"
    print(f"{name}: metrics {ours * 1000:,.0f} ms, hand-written {hand * 1000:,.0f} ms, ratio {ratio:.2f} "
          f"(targets ≤ 1000 ms, ≤ 1.5×) {verdict}", flush=True)


# --- part 2: refresh of changed cases ----------------------------------------------------------------

def part_refresh(args) -> None:
    home = Path(tempfile.mkdtemp(prefix="govcrm-bench-refresh-"))
    os.environ["GOVCRM_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    env = dict(os.environ)
    subprocess.run([sys.executable, "-m", "govcrm", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    # The demo city only (units, areas, categories, staff); the cases are written below.
    subprocess.run([sys.executable, "-c", "import django; django.setup(); "
                    "from govcrm.demo.city import city_ensure; city_ensure()"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    db = home / "govcrm.sqlite3"
    n = args.changed
    started = time.perf_counter()
    sql = sqlite3.connect(db)
    units = [r[0] for r in sql.execute("SELECT code FROM organization_unit WHERE kind = 'street'")]
    cats = [r[0] for r in sql.execute("SELECT id FROM cases_category WHERE level = 3")]
    areas = [r[0] for r in sql.execute("SELECT id FROM organization_area WHERE level = 'grid'")]
    sql.execute("CREATE TEMP TABLE u(i INTEGER PRIMARY KEY, code TEXT, id INTEGER)")
    sql.executemany("INSERT INTO u SELECT ?, ?, id FROM organization_unit WHERE code = ?",
                    [(i, c, c) for i, c in enumerate(units)])
    sql.execute("CREATE TEMP TABLE c(i INTEGER PRIMARY KEY, id INTEGER)")
    sql.executemany("INSERT INTO c VALUES (?, ?)", list(enumerate(cats)))
    sql.execute("CREATE TEMP TABLE a(i INTEGER PRIMARY KEY, id INTEGER)")
    sql.executemany("INSERT INTO a VALUES (?, ?)", list(enumerate(areas)))
    first = sql.execute("SELECT coalesce(max(id), 0) FROM cases_case").fetchone()[0] + 1
    sql.execute("PRAGMA journal_mode=WAL")
    sql.execute(f"""
        INSERT INTO cases_case (id, created_at, updated_at, number, query_code, case_type, urgency, status,
            close_reason, channel, title, description, address, language, dispatch_count, return_count,
            reopen_count, supervision_level, accept_due, contact_due, reply_due, dispatched_at, accepted_at,
            first_contact_at, replied_at, pause_reason, reply, search_text, version, area_id, lead_unit_id,
            category_id)
        WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < {n})
        SELECT {first} + i, datetime('2025-01-01', '+' || (i % 300) || ' days'), '2025-12-01 00:00:00',
               'BENCH' || printf('%09d', i), '000000', 'complaint', 'normal', 'follow_up', '', 'phone', '', '',
               '', 'zh-hans', 1, 0, 0, 0,
               datetime('2025-01-01', '+' || (i % 300) || ' days', '+4 hours'),
               datetime('2025-01-01', '+' || (i % 300) || ' days', '+1 days'),
               datetime('2025-01-01', '+' || (i % 300) || ' days', '+15 days'),
               datetime('2025-01-01', '+' || (i % 300) || ' days', '+10 minutes'),
               datetime('2025-01-01', '+' || (i % 300) || ' days', '+2 hours'),
               datetime('2025-01-01', '+' || (i % 300) || ' days', '+' || (i % 48) || ' hours'),
               datetime('2025-01-01', '+' || (i % 300) || ' days', '+5 days'),
               '', '', '', 5, (SELECT id FROM a WHERE a.i = s.i % {len(areas)}),
               (SELECT id FROM u WHERE u.i = s.i % {len(units)}), (SELECT id FROM c WHERE c.i = s.i % {len(cats)})
        FROM s
    """)
    sql.execute(f"""
        WITH e(seq, action, role, shift, fr, tu) AS (VALUES
            (1, 'register', 'agent', '+0 minutes', '', 'registered'),
            (2, 'dispatch', 'dispatcher', '+10 minutes', 'registered', 'dispatched'),
            (3, 'accept', 'handler', '+2 hours', 'dispatched', 'accepted'),
            (4, 'reply', 'handler', '+5 days', 'accepted', 'replied'),
            (5, 'review', 'dispatcher', '+6 days', 'replied', 'follow_up'))
        INSERT INTO cases_caseevent (seq, action, actor_name, actor_role, at, from_status, to_status,
                                     reason_code, reason, data, public, case_id)
        SELECT e.seq, e.action, 'bench', e.role, datetime(k.created_at, e.shift), e.fr, e.tu, '', '',
               CASE WHEN e.action = 'dispatch' THEN json_object('unit', u.code) ELSE '{{}}' END, 0, k.id
        FROM cases_case k JOIN u ON u.id = k.lead_unit_id CROSS JOIN e
        WHERE k.id >= {first}
        ORDER BY k.id, e.seq
    """)
    sql.commit()
    sql.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # as a running system's checkpoints would have
    events = sql.execute("SELECT count(*) FROM cases_caseevent").fetchone()[0]
    print(f"source: {n:,} cases and their events written into SQLite in {time.perf_counter() - started:.1f} s "
          f"({events:,} events in all, {db.stat().st_size / 2**20:,.0f} MiB)", flush=True)

    def run(*extra: str) -> float:
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "govcrm", "warehouse", "refresh", "--no-progress", *extra],
                             env=env, cwd=ROOT, check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - t
        print(f"  {out.stdout.strip()}  [wall {seconds:.1f} s incl. process start]", flush=True)
        return seconds

    print("full refresh (first load):")
    run()
    started = time.perf_counter()
    sql.execute(f"""
        UPDATE cases_case SET status = 'closed', close_reason = 'followed_up', closed_at = '2025-12-02 00:00:00',
               resolved = (id % 7 <> 0), satisfied = (id % 5 <> 0), rating = 1 + id % 5, version = 6,
               updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now'),
               category_id = CASE WHEN id % 10 = 0
                                  THEN (SELECT c.id FROM c WHERE c.i = (cases_case.id + 1) % {len(cats)})
                                  ELSE category_id END
        WHERE id >= {first}
    """)
    sql.execute(f"""
        INSERT INTO cases_caseevent (seq, action, actor_name, actor_role, at, from_status, to_status, reason_code,
                                     reason, data, public, case_id)
        SELECT 6, 'follow_up', 'bench', 'agent', '2025-12-02 00:00:00', 'follow_up', 'closed', '', '',
               json_object('resolved', json(CASE WHEN id % 7 <> 0 THEN 'true' ELSE 'false' END),
                           'satisfied', json(CASE WHEN id % 5 <> 0 THEN 'true' ELSE 'false' END)), 1, id
        FROM cases_case WHERE id >= {first} ORDER BY id
    """)
    sql.commit()
    sql.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    sql.close()
    print(f"changed {n:,} cases (one follow-up event each, 1 in 10 re-categorised) in "
          f"{time.perf_counter() - started:.1f} s")
    print(f"incremental refresh of {n:,} changed cases:")
    seconds = run()
    print(f"  → {seconds:.1f} s (target ≤ 60 s) {'OK' if seconds <= 60 else 'MISSED'}")
    print("nothing new (incremental; cases changed in the last 10 minutes are read again by design):")
    run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["query", "refresh", "both"], default="both")
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--changed", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    if args.part in ("query", "both"):
        os.environ.setdefault("GOVCRM_HOME", tempfile.mkdtemp(prefix="govcrm-bench-home-"))
        import django

        django.setup()
        part_query(args)
    if args.part in ("refresh", "both"):
        part_refresh(args)


if __name__ == "__main__":
    main()
