"""The analytical warehouse: one DuckDB file under $GOVCRM_HOME/warehouse/, a star schema fed from
the operational database (see `schema`, `refresh`, `export`).

Rules:
- One writer at a time: DuckDB locks the file for a read-write process. A second refresh (another
  worker, a person at the console) gets `WarehouseBusy` and changes nothing.
- Sessions run in UTC (`SET TimeZone`); local dates are computed explicitly in
  settings.TIME_ZONE, so results never depend on the machine's zone.
- Nothing is downloaded at run time: only the extensions built into the duckdb wheel (parquet,
  json, icu) are used, and automatic extension install/load is switched off.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from django.conf import settings
from django.utils.translation import gettext as _


class WarehouseError(Exception):
    """A warehouse operation refused or failed; the message is for the operator, in their language."""


class WarehouseBusy(WarehouseError):
    pass


def warehouse_path() -> Path:
    return Path(settings.GOVCRM_WAREHOUSE)


def connect(*, read_only: bool = False, path: Path | None = None) -> duckdb.DuckDBPyConnection:
    path = Path(path or warehouse_path())
    if read_only and not path.exists():
        raise WarehouseError(_("The warehouse has not been built yet: run “govcrm warehouse refresh”."))
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusy(_("The warehouse is in use by another process (a refresh is running?).")) from exc
        raise
    con.execute("SET TimeZone = 'UTC'")
    return con
