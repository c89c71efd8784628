"""`govcrm report build|send` for operators: files for a period and scope in both languages; clear
errors for bad input."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from govcrm.analytics.tests.test_metrics import month  # noqa: F401 -- the fixture

from .test_files import pdf_text

pytestmark = pytest.mark.django_db


def test_build_writes_pdf_and_xlsx_for_a_unit_in_both_languages(month, tmp_path):  # noqa: F811
    city = month["city"]
    tmp_path = tmp_path / "out"  # beside the test's warehouse folder
    out = io.StringIO()
    call_command("report", "build", "--period", "week", "--date", "2026-03-04", "--unit", city.district.code,
                 "--out", str(tmp_path), stdout=out)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"govcrm-weekly-2026-W10-gov-d1-{lang}.{fmt}" for lang in ("en", "zh-hans")
                     for fmt in ("pdf", "xlsx")]
    assert out.getvalue().count("\n") == 4
    text = pdf_text((tmp_path / "govcrm-weekly-2026-W10-gov-d1-zh-hans.pdf").read_bytes())
    assert city.district.name_zh in text and "响应率" in text and city.urban.name_zh not in text
    book = openpyxl.load_workbook(tmp_path / "govcrm-weekly-2026-W10-gov-d1-en.xlsx", read_only=True)
    assert "Rates" in book.sheetnames


@pytest.mark.parametrize(("args", "message"), [
    (["build", "--period", "week", "--date", "4 March", "--out", "x"], "不是日期"),  # in LANGUAGE_CODE
    (["build", "--period", "month", "--unit", "nowhere", "--out", "x"], "nowhere"),
    (["build", "--period", "month", "--language", "fr", "--out", "x"], "fr"),
    (["send", "--period", "month", "--date", "2099-01-15"], "尚未结束"),
])
def test_bad_input_is_a_clear_error(city, args, message, tmp_path):
    args = [str(tmp_path / "out") if a == "x" else a for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("report", *args)
    assert not (tmp_path / "out").exists()
