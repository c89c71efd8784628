"""Scheduled reports benchmark: building the weekly and the monthly report (content from
analytics.metrics, then the PDF and the XLSX) on a generated warehouse.

    .venv/bin/python bench/reports.py [--cases 10000000] [--repeat 3]

Generates `--cases` cases directly in a fresh DuckDB warehouse with bench/warehouse.py's generator
(a city of 16 districts, 320 streets, 30 departments, 300 categories, two years), then times, median
of `--repeat` after a warm-up: the content of the weekly and of the monthly report for the whole
city and for one district (every section: summary against the previous period, rankings at three
levels, 12-period trend, top and rising categories, deadline performance), and the PDF and XLSX
rendering. The hot topics (one database read of the topics app) are left out: there is no
operational database here. The reports are built by the worker once per period, scope and
language, so there is no interactive target; the figures say what the job costs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def median_seconds(fn, repeat: int):
    result = fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    import duckdb
    from django.utils import translation

    from govcrm.analytics.warehouse import schema
    from govcrm.reports import content, pdf, xlsx
    from govcrm.reports.periods import Period

    spec = importlib.util.spec_from_file_location("bench_warehouse", ROOT / "bench" / "warehouse.py")
    warehouse_bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(warehouse_bench)
    content.hot_topics = lambda period: None  # no operational database in this benchmark

    folder = Path(tempfile.mkdtemp(prefix="govcrm-bench-reports-"))
    con = duckdb.connect(str(folder / "bench.duckdb"))
    con.execute("SET TimeZone = 'UTC'")
    schema.ensure(con)
    started = time.perf_counter()
    con.execute(warehouse_bench.GENERATE.replace("{n}", str(args.cases)))
    con.execute("CHECKPOINT")
    print(f"generated {args.cases:,} cases in {time.perf_counter() - started:.1f} s", flush=True)
    as_of = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    district = con.execute("SELECT path FROM dim_unit WHERE code = 'd3'").fetchone()[0]
    for kind, day in (("weekly", dt.date(2024, 6, 12)), ("monthly", dt.date(2024, 6, 12))):
        period = Period.containing(kind, day)
        in_period = con.execute("SELECT count(*) FROM fact_case WHERE date_key BETWEEN ? AND ?",
                                list(period.dates)).fetchone()[0]
        for scope_name, scope in (("city", None), ("district d3", district)):
            with translation.override("zh-hans"):
                seconds, built = median_seconds(lambda p=period, s=scope: content.build(
                    con, p, scope_path=s, scope_name="x", language="zh-hans", as_of=as_of), args.repeat)
                pdf_s, pdf_bytes = median_seconds(lambda b=built: pdf.render(b), args.repeat)
                xlsx_s, xlsx_bytes = median_seconds(lambda b=built: xlsx.render(b), args.repeat)
            rows = sum(len(t.rows) for s in built.sections for t in s.tables)
            print(f"{kind:8} {period.code} ({in_period:,} cases in the period), {scope_name:11}: content "
                  f"{seconds:.2f} s ({rows:,} table rows), PDF {pdf_s:.2f} s ({len(pdf_bytes) / 1024:,.0f} KiB), "
                  f"XLSX {xlsx_s:.2f} s ({len(xlsx_bytes) / 1024:,.0f} KiB)", flush=True)
    con.close()


if __name__ == "__main__":
    main()
