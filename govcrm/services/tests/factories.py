"""The services test world: the three units with handlers and managers, a citizen, loaded processes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from govcrm.citizens.actions import citizen_find_or_create, citizen_input_clean
from govcrm.organization.models import Role, Unit
from govcrm.organization.tests.factories import UnitFactory, staff
from govcrm.services import actions
from govcrm.services.integrations import credit_code_with_check, id_number_with_check
from govcrm.services.loading import load_catalogue, load_processes
from govcrm.services.models import ServiceItem

TZ = ZoneInfo("Asia/Shanghai")
# A Friday morning; 20 working days later is well before the 2027 calendar question.
SUBMITTED = dt.datetime(2026, 11, 27, 10, 0, tzinfo=TZ)


@dataclass
class World:
    units: dict[str, Unit]
    users: dict[str, object]
    citizen: object

    def item(self, code: str) -> ServiceItem:
        return ServiceItem.objects.get(code=code)


def world(language: str = "zh-hans") -> World:
    centre = UnitFactory(code="centre", name_zh="市12345热线中心", name_en="12345 Hotline Centre",
                         kind=Unit.Kind.CENTRE)
    units = {
        "market": UnitFactory(code="market", name_zh="市市场监督管理局", name_en="Market Regulation Administration",
                              parent=centre),
        "police": UnitFactory(code="police", name_zh="市公安局", name_en="Public Security Bureau", parent=centre),
        "civil": UnitFactory(code="civil", name_zh="市民政局", name_en="Civil Affairs Bureau", parent=centre),
    }
    units["civil-street"] = UnitFactory(code="civil-street", name_zh="民政所", name_en="Civil affairs office",
                                        parent=units["civil"], kind=Unit.Kind.STREET)
    users = {}
    for code, unit in units.items():
        users[f"{code}_handler"] = staff(f"{code}_handler", Role.HANDLER, unit, language="en")
        users[f"{code}_manager"] = staff(f"{code}_manager", Role.MANAGER, unit)
    users["supervisor"] = staff("supervisor", Role.SUPERVISOR, centre)
    users["agent"] = staff("agent", Role.AGENT, centre)
    load_processes()
    load_catalogue()
    citizen = citizen_find_or_create(data=citizen_input_clean(name="王小明", language=language,
                                                              email="wang@example.cn"))
    return World(units=units, users=users, citizen=citizen)


def id_number(birth: dt.date, serial: str = "123") -> str:
    return id_number_with_check(f"110101{birth:%Y%m%d}{serial}")


CREDIT_CODE = credit_code_with_check("91110000MA01ABCD1")


def senior_form(**overrides) -> dict:
    return {"name": "李奶奶", "id_number": id_number(dt.date(1940, 3, 1)), "address": "和平街道1号",
            "residence_years": "40", "applicant_relation": "child", **overrides}


def residence_form(**overrides) -> dict:
    return {"name": "张伟", "id_number": id_number(dt.date(1995, 6, 1)), "address": "安定街道8号",
            "resident_since": "2025-01-15", "basis": "employment", "employer": "示范科技有限公司", **overrides}


def licence_form(**overrides) -> dict:
    return {"company_name": "示范贸易有限公司", "credit_code": CREDIT_CODE, "change_type": "address",
            "change_details": "住所由和平街道1号变更为安定街道8号", **overrides}


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def uploads(service: ServiceItem) -> list[actions.Upload]:
    return [actions.Upload(key=m["key"], name=f"{m['key']}.pdf", data=PDF) for m in service.materials if m["required"]]
