"""Writes of the analytics app: the warehouse refresh and its Parquet export (see warehouse/)."""

from __future__ import annotations

from pathlib import Path

from .warehouse import export as _export
from .warehouse import refresh as _refresh
from .warehouse import warehouse_path


def warehouse_refresh(*, full: bool = False, progress: bool = False) -> _refresh.RefreshResult:
    """Load what changed since the last run (everything with `full`). Raises WarehouseBusy."""
    return _refresh.refresh(full=full, progress=progress)


def warehouse_export(*, out: Path | None = None) -> _export.ExportResult:
    """Write the warehouse as Parquet, facts partitioned by month, under `out`."""
    return _export.export(out or warehouse_path().parent / "parquet")
