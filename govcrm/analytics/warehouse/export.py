"""`govcrm warehouse export`: the warehouse as Parquet files, facts partitioned by month.

Layout (Hive-style, what Spark, Trino or DuckDB itself read as one partitioned table):
    <out>/<fact>/month_key=YYYYMM/data_0.parquet   for each fact table
    <out>/<dimension>.parquet                      for each dimension
Each export replaces the previous one in `out` table by table (written beside, then renamed), so
a reader never sees a table half written. Personal data is as absent here as in the warehouse.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from . import connect, schema


@dataclass(frozen=True)
class ExportResult:
    out: Path
    tables: dict[str, int]  # rows per table


def export(out: Path, *, path: Path | None = None) -> ExportResult:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    con = connect(read_only=True, path=path)
    counts: dict[str, int] = {}
    try:
        for table in (*schema.FACTS, *schema.DIMENSIONS):
            counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            final = out / (table if table in schema.FACTS else f"{table}.parquet")
            tmp = out / f".{final.name}.tmp"
            if tmp.is_dir():
                shutil.rmtree(tmp)
            elif tmp.exists():
                tmp.unlink()
            if table in schema.FACTS:
                tmp.mkdir()
                if counts[table]:
                    con.execute(f"COPY {table} TO '{tmp}' (FORMAT parquet, PARTITION_BY (month_key))")
            else:
                con.execute(f"COPY {table} TO '{tmp}' (FORMAT parquet)")
            if final.is_dir():
                shutil.rmtree(final)
            elif final.exists():
                final.unlink()
            tmp.rename(final)
    finally:
        con.close()
    return ExportResult(out=out, tables=counts)
