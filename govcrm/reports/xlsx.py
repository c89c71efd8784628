"""A report as XLSX (openpyxl): a cover sheet, then one sheet per table of each section, every row,
numbers stored as numbers (rates in per cent with one decimal, as in the PDF), headers in the
report's language; a missing figure is an empty cell."""

from __future__ import annotations

import io
import re

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Font

from .content import ReportContent

_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_title(title: str, used: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = _BAD.sub(" ", title)[:31].strip() or "sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def render(report: ReportContent) -> bytes:
    book = Workbook()
    cover = book.active
    used: set[str] = set()
    cover.title = sheet_title(pgettext("report", "Report"), used)
    bold = Font(bold=True)
    cover.append([report.title])
    cover["A1"].font = Font(bold=True, size=14)
    cover.append([report.subtitle])
    cover.append([])
    cover.append([_("Period"), report.period.start, report.period.end])
    for cell in cover[4][1:]:
        cell.number_format = "yyyy-mm-dd"
    cover.append([])
    cover.append([_("Rate"), f"{report.period.short_label()} (%)", f"{report.period.previous().short_label()} (%)",
                  "n"])
    for cell in cover[6]:
        cell.font = bold
    for item in report.headline.values():
        cover.append([item["name"], item["rate"], item["previous"], item["n"]])
    cover.append([])
    cover.append([_("Notes")])
    for section in report.sections:
        for note in section.notes:
            cover.append([note])
    cover.column_dimensions["A"].width = 40
    for section in report.sections:
        for table in section.tables:
            sheet = book.create_sheet(sheet_title(table.title, used))
            sheet.append(table.columns)
            for cell in sheet[1]:
                cell.font = bold
            for row in table.rows:
                sheet.append(row)
            sheet.freeze_panes = "B2"
            sheet.column_dimensions["A"].width = 28
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
