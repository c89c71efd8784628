"""Registry files (CSV and XLSX bytes) and citizens with cases, for the identity tests."""

from __future__ import annotations

import csv
import io

from stdnum.cn import ric

from govcrm.cases.tests.factories import register

RESIDENT_HEADERS = ["姓名", "身份证号", "手机号", "出生日期", "住址"]


def id_number(area: str, birth: str, seq: str) -> str:
    body = f"{area}{birth}{seq}"
    return body + ric.calc_check_digit(body + "0")  # the function drops a last (check) character


GOOD_RESIDENTS = [
    ["张伟", id_number("110105", "19800314", "123"), "13800138001", "1980-03-14",
     "北京市朝阳区建国路88号3栋2单元501室"],
    ["李娜", id_number("310104", "19921105", "456"), "+86 139 0013 9002", "1992/11/5", "上海市徐汇区漕溪北路1号"],
    ["王芳", id_number("440305", "20010101", "789"), "", "", "深圳市南山区科技园路2号"],
]


def csv_bytes(rows: list[list[str]], headers: list[str] = RESIDENT_HEADERS, encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], headers: list[str] = RESIDENT_HEADERS) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def citizen_with_case(actor, *, name: str, phone: str = "", id_number: str = "", address: str = "",
                      description: str = "和平街12号门口的路灯坏了三天，晚上很黑。"):
    citizen = {"name": name}
    if phone:
        citizen["phone"] = phone
    if id_number:
        citizen["id_number"] = id_number
    case = register(actor, citizen=citizen, address=address, description=description)
    return case.citizen, case
