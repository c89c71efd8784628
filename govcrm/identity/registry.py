"""Reading and validating a department registry file (CSV or XLSX), before anything is stored.

Rules:
- The format is decided from the bytes: an XLSX is a ZIP (PK\\x03\\x04) that openpyxl opens; anything
  else is read as CSV in UTF-8 (with or without BOM) or, failing that, GB18030 (what Excel saves in
  China). The first sheet of a workbook is read; the first row holds the headers.
- Headers may be English or Chinese (`COLUMNS`); a missing required column fails the file.
- Every row is checked and every problem reported as (row number as in the spreadsheet, column
  header, message in the reader's language): resident IDs and credit codes by their check
  characters (python-stdnum, through `citizens.identities`), phones with phonenumbers, dates in
  ISO, 2024/1/31, 20240131 or as a date cell, a birth date that disagrees with the ID number, an ID
  number repeated in the same file.
- `parse` only reads and validates; `actions.registry_import` stores a file with no problem at all,
  in one transaction, or nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from collections.abc import Iterator

from django.utils.translation import gettext as _

from govcrm.citizens import identities
from govcrm.common.errors import ValidationFailed

from . import normalise
from .models import RegistryKind

MAX_ROWS = 200_000
MAX_ERRORS = 1_000  # reported; the file is rejected whatever their number
# field → accepted headers (case-insensitive); the first is the canonical English one.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    RegistryKind.RESIDENTS: {
        "name": ("name", "姓名"),
        "id_number": ("id_number", "身份证号", "身份证号码", "公民身份号码"),
        "phone": ("phone", "手机号", "手机号码", "联系电话", "电话"),
        "birth_date": ("birth_date", "出生日期"),
        "address": ("address", "住址", "地址", "居住地址"),
    },
    RegistryKind.ENTERPRISES: {
        "name": ("name", "企业名称", "名称"),
        "credit_code": ("credit_code", "统一社会信用代码", "信用代码"),
        "legal_representative": ("legal_representative", "法定代表人"),
        "address": ("address", "住所", "地址", "经营场所"),
        "phone": ("phone", "联系电话", "电话", "手机号"),
    },
}
REQUIRED = {RegistryKind.RESIDENTS: ("name", "id_number"), RegistryKind.ENTERPRISES: ("name", "credit_code")}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")


@dataclasses.dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclasses.dataclass
class ParsedFile:
    kind: str
    rows: list[dict]  # clean values per row, with "row" (the spreadsheet row number)
    errors: list[RowError]
    total: int

    @property
    def ok(self) -> bool:
        return not self.errors


class FileRejected(ValidationFailed):
    """The file as a whole could not be read (format, headers, size)."""


def _rows_xlsx(data: bytes) -> Iterator[list]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged or foreign ZIP: one clear message, whatever openpyxl says
        raise FileRejected(_("The file is not a readable XLSX workbook.")) from exc
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        book.close()


def _rows_csv(data: bytes) -> Iterator[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise FileRejected(_("The file is neither UTF-8 nor GB18030 text."))
    if "\x00" in text:
        raise FileRejected(_("The file is not a CSV or XLSX file."))
    yield from csv.reader(io.StringIO(text, newline=""))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone typed as a number in Excel
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _date(value: str) -> dt.date:
    text = normalise._nfkc(value)
    text = re.sub(r"\s+00:00(:00)?$", "", text)
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise ValueError(text)


def _headers(header_row: list, kind: str) -> dict[str, int]:
    wanted = COLUMNS[kind]
    found: dict[str, int] = {}
    for index, raw in enumerate(header_row):
        header = _cell(raw).casefold()
        for field, names in wanted.items():
            if header in {n.casefold() for n in names} and field not in found:
                found[field] = index
    missing = [wanted[f][0] for f in REQUIRED[kind] if f not in found]
    if missing:
        msg = _("Required columns are missing: %(columns)s. Accepted headers: %(accepted)s.") % {
            "columns": ", ".join(missing),
            "accepted": "; ".join(f"{field}: {' / '.join(names)}" for field, names in wanted.items()),
        }
        raise FileRejected(msg, details={"file": msg})
    return found


def _identity(kind: str, value: str) -> str:
    try:
        return identities.normalise(kind, value)
    except ValidationFailed as err:
        raise ValueError(err.message) from None


def _clean_resident(values: dict[str, str], add) -> dict:
    row: dict = {"name": normalise._nfkc(values.get("name", ""))}
    if not row["name"]:
        add("name", _("The name is empty."))
    elif len(row["name"]) > 200:
        add("name", _("The name is longer than 200 characters."))
    row["id_number"] = ""
    if not values.get("id_number"):
        add("id_number", _("The resident ID number is empty."))
    else:
        try:
            row["id_number"] = _identity(identities.ID_CARD, normalise.id_number(values["id_number"]))
        except ValueError as err:
            add("id_number", str(err))
    row["phone"] = ""
    if values.get("phone"):
        try:
            row["phone"] = _identity(identities.PHONE, values["phone"])
        except ValueError as err:
            add("phone", str(err))
    from_id = normalise.birth_from_id(row["id_number"]) if row["id_number"] else ""
    row["birth_date"] = dt.date.fromisoformat(from_id) if from_id else None
    if values.get("birth_date"):
        try:
            given = _date(values["birth_date"])
        except ValueError:
            add("birth_date", _("Not a date: %(value)s (use 2024-01-31).") % {"value": values["birth_date"]})
        else:
            if row["birth_date"] and given != row["birth_date"]:
                add("birth_date", _("The birth date %(given)s does not agree with the ID number (%(from_id)s).")
                    % {"given": given.isoformat(), "from_id": from_id})
            row["birth_date"] = given
    row["address"] = normalise._nfkc(values.get("address", ""))
    if len(row["address"]) > 300:
        add("address", _("The address is longer than 300 characters."))
    return row


def _clean_enterprise(values: dict[str, str], add) -> dict:
    row: dict = {"name": normalise._nfkc(values.get("name", ""))}
    if not row["name"]:
        add("name", _("The name is empty."))
    elif len(row["name"]) > 200:
        add("name", _("The name is longer than 200 characters."))
    row["credit_code"] = ""
    if not values.get("credit_code"):
        add("credit_code", _("The unified social credit code is empty."))
    else:
        try:
            row["credit_code"] = _identity(identities.CREDIT_CODE, normalise.id_number(values["credit_code"]))
        except ValueError as err:
            add("credit_code", str(err))
    row["legal_representative"] = normalise._nfkc(values.get("legal_representative", ""))[:200]
    row["phone"] = ""
    if values.get("phone"):
        try:
            row["phone"] = _identity(identities.PHONE, values["phone"])
        except ValueError as err:
            add("phone", str(err))
    row["address"] = normalise._nfkc(values.get("address", ""))
    if len(row["address"]) > 300:
        add("address", _("The address is longer than 300 characters."))
    return row


def parse(data: bytes, *, kind: str) -> ParsedFile:
    """Read and check every row; raises FileRejected when the file itself cannot be used."""
    if kind not in RegistryKind.values:
        raise FileRejected(_("Unknown registry kind: %(kind)s") % {"kind": kind})
    if not data:
        raise FileRejected(_("The file is empty."))
    reader = _rows_xlsx(data) if data[:4] == b"PK\x03\x04" else _rows_csv(data)
    try:
        header_row = next(reader)
    except StopIteration:
        raise FileRejected(_("The file is empty.")) from None
    except csv.Error as exc:
        raise FileRejected(_("The CSV file cannot be read: %(error)s") % {"error": exc}) from None
    columns = _headers(header_row, kind)
    headers = {field: _cell(header_row[index]) for field, index in columns.items()}
    key_field = REQUIRED[kind][1]
    seen: dict[str, int] = {}
    rows: list[dict] = []
    errors: list[RowError] = []
    clean = _clean_resident if kind == RegistryKind.RESIDENTS else _clean_enterprise
    total = 0
    try:
        for number, raw in enumerate(reader, start=2):
            if not any(_cell(v) for v in raw):
                continue  # blank lines at the end of a spreadsheet
            total += 1
            if total > MAX_ROWS:
                raise FileRejected(_("The file has more than %(max)s rows; split it.") % {"max": MAX_ROWS})
            values = {field: _cell(raw[index]) if index < len(raw) else "" for field, index in columns.items()}

            def add(field: str, message: str, _number=number) -> None:
                if len(errors) < MAX_ERRORS:
                    errors.append(RowError(_number, headers.get(field, field), message))

            row = clean(values, add)
            key = row[key_field]
            if key:
                if key in seen:
                    add(key_field, _("The same number is already in row %(row)s.") % {"row": seen[key]})
                else:
                    seen[key] = number
            row["row"] = number
            rows.append(row)
    except csv.Error as exc:
        raise FileRejected(_("The CSV file cannot be read: %(error)s") % {"error": exc}) from None
    if total == 0:
        raise FileRejected(_("The file has a header row but no data rows."))
    return ParsedFile(kind=kind, rows=rows, errors=errors, total=total)
