import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from govcrm.citizens import crypto, identities
from govcrm.identity.actions import ImportRejected, registry_import
from govcrm.identity.models import EnterpriseRecord, RegistryImport, ResidentRecord
from govcrm.organization.queries import SYSTEM

from .factories import GOOD_RESIDENTS, csv_bytes, id_number, xlsx_bytes

pytestmark = pytest.mark.django_db


def _import(data: bytes, kind: str = "residents", name: str = "户籍.csv"):
    return registry_import(actor=SYSTEM, data=data, file_name=name, kind=kind, source="公安局户籍科")


def test_good_csv_is_imported_encrypted_and_masked():
    batch = _import(csv_bytes(GOOD_RESIDENTS))
    assert (batch.rows, batch.created, batch.updated) == (3, 3, 0)
    zhang = ResidentRecord.objects.get(name="张伟")
    assert zhang.id_number == GOOD_RESIDENTS[0][1]
    assert GOOD_RESIDENTS[0][1] not in zhang.id_number_stored  # encrypted at rest
    assert zhang.id_number_index == crypto.blind_index(identities.ID_CARD, GOOD_RESIDENTS[0][1])
    assert zhang.id_number_masked == GOOD_RESIDENTS[0][1][:3] + "*" * 11 + GOOD_RESIDENTS[0][1][-4:]
    assert zhang.phone == "+8613800138001" and zhang.phone_masked == "138****8001"
    assert zhang.row_number == 2
    li = ResidentRecord.objects.get(name="李娜")
    assert li.birth_date == dt.date(1992, 11, 5) and li.phone == "+8613900139002"
    wang = ResidentRecord.objects.get(name="王芳")
    assert wang.birth_date == dt.date(2001, 1, 1)  # from the ID number
    assert wang.phone_stored == "" and wang.phone_masked == ""


def test_good_xlsx_with_date_and_number_cells_is_imported():
    rows = [[r[0], r[1], int(r[2]) if r[2].isdigit() else r[2], None, r[4]] for r in GOOD_RESIDENTS]
    rows[0][3] = dt.datetime(1980, 3, 14, tzinfo=None)  # noqa: DTZ001 - a spreadsheet date cell has no zone
    batch = _import(xlsx_bytes(rows), name="户籍.xlsx")
    assert batch.created == 3
    assert ResidentRecord.objects.get(name="张伟").phone == "+8613800138001"  # a phone typed as a number
    assert ResidentRecord.objects.get(name="张伟").birth_date == dt.date(1980, 3, 14)


def test_gb18030_csv_with_english_headers():
    data = csv_bytes(GOOD_RESIDENTS[:1], headers=["name", "id_number", "phone", "birth_date", "address"],
                     encoding="gb18030")
    assert _import(data).created == 1


def test_reimport_of_the_same_source_updates():
    _import(csv_bytes(GOOD_RESIDENTS))
    changed = [list(GOOD_RESIDENTS[0])]
    changed[0][4] = "北京市朝阳区建国路99号"
    batch = _import(csv_bytes(changed))
    assert (batch.created, batch.updated) == (0, 1)
    assert ResidentRecord.objects.count() == 3
    assert ResidentRecord.objects.get(name="张伟").address == "北京市朝阳区建国路99号"


@pytest.mark.parametrize("maker", [csv_bytes, xlsx_bytes])
def test_a_file_with_bad_rows_is_rejected_whole_with_the_report(maker):
    bad = [
        *GOOD_RESIDENTS,
        ["赵六", GOOD_RESIDENTS[0][1][:-1] + ("0" if GOOD_RESIDENTS[0][1][-1] != "0" else "1"), "", "", ""],
        ["", id_number("110105", "19700101", "001"), "12345", "1970-13-01", ""],
        ["孙七", id_number("110105", "19700101", "002"), "", "1971-01-01", ""],
        ["张伟", GOOD_RESIDENTS[0][1], "", "", ""],
    ]
    with translation.override("en"), pytest.raises(ImportRejected) as caught:
        _import(maker(bad))
    assert ResidentRecord.objects.count() == 0 and RegistryImport.objects.count() == 0
    report = {(e.row, e.column): e.message for e in caught.value.report}
    assert "check digit" in report[(5, "身份证号")]
    assert "empty" in report[(6, "姓名")]
    assert "phone" in report[(6, "手机号")].lower()
    assert "Not a date" in report[(6, "出生日期")]
    assert "does not agree" in report[(7, "出生日期")]
    assert "row 2" in report[(8, "身份证号")]
    assert set(report) == {(5, "身份证号"), (6, "姓名"), (6, "手机号"), (6, "出生日期"), (7, "出生日期"),
                           (8, "身份证号")}
    assert "4 of 7 rows" in caught.value.message


def test_the_report_is_in_chinese_too():
    bad = [["赵六", "110105198003141234", "", "", ""]]
    with translation.override("zh-hans"), pytest.raises(ImportRejected) as caught:
        _import(csv_bytes(bad))
    assert "校验" in caught.value.report[0].message or "身份证" in caught.value.report[0].message
    assert "未导入" in caught.value.message


@pytest.mark.parametrize(("data", "words"), [
    (b"", "empty"),
    ("姓名,电话\n张三,13800138000\n".encode(), "Required columns are missing: id_number"),
    ("姓名,身份证号\n".encode(), "no data rows"),
    (b"PK\x03\x04garbage", "not a readable XLSX"),
])
def test_unusable_files_are_rejected(data, words):
    with translation.override("en"), pytest.raises(ImportRejected) as caught:
        _import(data)
    assert words in caught.value.message
    assert RegistryImport.objects.count() == 0


def test_enterprises_import_and_link_by_credit_code(city):
    from govcrm.citizens.actions import citizen_find_or_create, citizen_input_clean

    code = "91110105MA01234567"
    from stdnum.cn import uscc

    code = code[:17] + uscc.calc_check_digit(code[:17])
    company = citizen_find_or_create(data=citizen_input_clean(name="某某科技有限公司", kind="enterprise",
                                                              credit_code=code))
    headers = ["企业名称", "统一社会信用代码", "法定代表人", "住所", "联系电话"]
    batch = _import(csv_bytes([["某某科技有限公司", code, "张伟", "北京市朝阳区", "010-88886666"]], headers=headers),
                    kind="enterprises")
    record = EnterpriseRecord.objects.get(registry_import=batch)
    assert record.credit_code == code and record.credit_code_masked.startswith(code[:4])
    assert record.phone == "+861088886666"
    assert record.citizen_id == company.pk
    with translation.override("en"), pytest.raises(ImportRejected) as caught:
        _import(csv_bytes([["坏公司", code[:-1] + "0" if code[-1] != "0" else code[:-1] + "1", "", "", ""]],
                          headers=headers), kind="enterprises")
    assert "credit code" in caught.value.report[0].message


def _credit_code(seq: int) -> str:
    from stdnum.cn import uscc

    body = f"91110105MA0{seq:06d}"
    return body + uscc.calc_check_digit(body)


def test_an_enterprise_file_is_stored_and_linked_in_as_many_queries_whatever_its_length(city):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from govcrm.citizens.actions import citizen_find_or_create, citizen_input_clean

    headers = ["企业名称", "统一社会信用代码", "法定代表人", "住所", "联系电话"]
    codes = [_credit_code(n) for n in range(1, 7)]
    companies = {code: citizen_find_or_create(data=citizen_input_clean(name=f"企业{n}", kind="enterprise",
                                                                       credit_code=code))
                 for n, code in enumerate(codes[::2])}

    def queries(source: str, rows: list[str]) -> int:
        data = csv_bytes([[f"企业{code[-4:]}", code, "", "", ""] for code in rows], headers=headers)
        with CaptureQueriesContext(connection) as ctx:
            registry_import(actor=SYSTEM, data=data, file_name="企业.csv", kind="enterprises", source=source)
        return len(ctx.captured_queries)

    assert queries("市场监管局", codes) == queries("税务局", codes[:1])  # no query per row
    linked = dict(EnterpriseRecord.objects.filter(source="市场监管局").values_list("credit_code_index", "citizen_id"))
    assert linked == {crypto.blind_index(identities.CREDIT_CODE, code): companies[code].pk if code in companies
                      else None for code in codes}
    batch = registry_import(actor=SYSTEM, data=csv_bytes([["新名称", codes[1], "", "", ""]], headers=headers),
                            file_name="企业.csv", kind="enterprises", source="市场监管局")
    assert (batch.created, batch.updated) == (0, 1)
    assert EnterpriseRecord.objects.get(source="市场监管局", row_number=2, registry_import=batch).name == "新名称"


def test_command_imports_and_rejects(tmp_path, capsys):
    good = tmp_path / "户籍.csv"
    good.write_bytes(csv_bytes(GOOD_RESIDENTS))
    call_command("registry", "import", str(good), "--kind", "residents", "--source", "公安局户籍科")
    assert "3 rows, 3 new" in capsys.readouterr().out
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx_bytes([["李四", "110105198003141234", "", "", ""]]))
    with pytest.raises(CommandError):
        call_command("registry", "import", str(bad), "--kind", "residents", "--source", "民政局", "--language", "en")
    err = capsys.readouterr().err
    assert "2\t身份证号\t" in err and "nothing was imported" in err
    assert ResidentRecord.objects.count() == 3
