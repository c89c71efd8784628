"""The report's PDF, read back with pdftotext (poppler), and its XLSX, read back with openpyxl, in
Chinese and in English, carry the figures of the content (which test_content checks against
analytics.metrics)."""

from __future__ import annotations

import io
import shutil
import subprocess

import openpyxl
import pytest

from govcrm.analytics.tests.test_metrics import AS_OF, month  # noqa: F401 -- the fixture
from govcrm.reports.actions import report_content, report_render

from .test_content import MONTH, WEEK, table

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    # -layout keeps a table's row on one line; poppler-data maps the CID font's glyphs to Unicode
    out = subprocess.run([shutil.which("pdftotext"), "-layout", "-", "-"], input=data, capture_output=True,  # noqa: S603
                         check=True)
    return out.stdout.decode("utf-8")


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_pdf_text_in_both_languages(month, language):  # noqa: F811
    city = month["city"]
    built = report_content(month["con"], WEEK, scope_path=None, unit=None, language=language, as_of=AS_OF)
    text = pdf_text(report_render(built)["pdf"])
    flat = squash(text)
    rates = {row[0]: row for row in table(built, "rates").rows}
    if language == "zh-hans":
        assert "周报" in text and "2026年第10周" in text and "全市" in text
        for name in ("响应率", "解决率", "满意率", "退单率", "首派准确率", "单位排名", "趋势", "热点问题", "办理时限"):
            assert name in text, name
        assert city.street1.name_zh in text and city.urban.name_zh in text
        response = rates["响应率"]
    else:
        assert "Weekly report" in text and "Week 10 of 2026" in text and "Whole city" in text
        for name in ("Response rate", "Resolution rate", "Satisfaction rate", "Return rate", "Unit rankings",
                     "Trend", "Top issues", "Deadline performance"):
            assert name in flat, name
        assert city.street1.name_en in text
        response = rates["Response rate"]
    # the response rate's row: k, n and the rate as the table holds them (5 of 8, 62.5 %)
    assert response[1:4] == [5, 8, 62.5]
    assert f"{response[0]} 5 8 62.5" in flat
    # the satisfaction ranking: S1 2 of 3 (66.7 %) with its Wilson interval
    s1 = city.street1.name_zh if language == "zh-hans" else city.street1.name_en
    street = next(r for r in table(built, "ranking_street").rows if r[0] == s1)
    sat = 1 + 7 * 2
    assert f"{street[sat]:.1f}" in flat and f"{street[sat + 3]:.1f}–{street[sat + 4]:.1f}" in flat


def test_xlsx_one_sheet_per_table_numbers_as_numbers(month):  # noqa: F811
    for language, rates_title in (("zh-hans", "比率"), ("en", "Rates")):
        built = report_content(month["con"], MONTH, scope_path=None, unit=None, language=language, as_of=AS_OF)
        book = openpyxl.load_workbook(io.BytesIO(report_render(built)["xlsx"]), read_only=True)
        tables = [t for s in built.sections for t in s.tables]
        assert len(book.sheetnames) == 1 + len(tables)
        for t in tables:
            sheet = book.worksheets[1 + tables.index(t)]
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
            assert rows[0] == t.columns
            assert rows[1:] == t.rows  # every row, numbers as numbers, a missing figure an empty cell
        sheet = book[rates_title]
        response = next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))
        assert isinstance(response[1], int) and isinstance(response[3], float) and response[1:4] == (5, 8, 62.5)


def test_an_empty_period_is_a_report_that_says_so(month):  # noqa: F811
    from govcrm.reports.periods import Period

    quiet = Period.containing("weekly", WEEK.start.replace(month=5))  # no case in May
    built = report_content(month["con"], quiet, scope_path=None, unit=None, language="en", as_of=AS_OF)
    assert all(row[1:4] == [0, 0, None] for row in table(built, "rates").rows)
    text = pdf_text(report_render(built)["pdf"])
    assert "No figures for this period." in text and "Response rate" in text
