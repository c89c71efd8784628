"""A dashboard table (`queries.Table`) as a CSV or XLSX download: every row, the numbers as on the
screen, headers in the reader's language.

Rules:
- CSV is UTF-8 with a byte-order mark (so that spreadsheet programs read the Chinese headers),
  comma-separated, a row per line; an empty cell is a missing figure.
- XLSX is written with openpyxl in write-only mode (rows streamed, no row cap but the format's
  own 1,048,576), one sheet named after the table, numbers stored as numbers.
"""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from .queries import Table

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def table_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def table_xlsx(table: Table) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=table.name[:31])
    sheet.append(table.columns)
    for row in table.rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def table_bytes(table: Table, fmt: str) -> bytes:
    return table_csv(table) if fmt == "csv" else table_xlsx(table)
