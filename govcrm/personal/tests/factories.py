"""The personalisation test world: a few service items with rules, other citizens' histories, and Zhang San.

Dates are relative to today, so that the notices fall due whatever day the tests run.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from django.utils import timezone
from stdnum.cn import ric

from govcrm.citizens.actions import citizen_find_or_create, citizen_input_clean
from govcrm.citizens.models import Citizen
from govcrm.personal.models import ProactiveRule
from govcrm.personal.notices import birthday
from govcrm.services.models import Application, ServiceItem

EMAIL = "zhang.san@example.cn"
PHONE = "+8613800138000"
_numbers = itertools.count(1)

ITEMS = {
    # code: (zh, en, tags)
    "birth-registration": ("新生儿出生登记", "Birth registration", ["family", "newborn"]),
    "child-insurance": ("新生儿医保参保", "Newborn medical insurance", ["family", "insurance"]),
    "childcare-subsidy": ("育儿补贴申领", "Childcare subsidy", ["family", "allowance"]),
    "senior-card": ("老年人优待证办理", "Senior card", ["elderly"]),
    "residence-permit": ("居住证申领", "Residence permit", ["residence"]),
    "permit-endorsement": ("居住证签注", "Residence permit endorsement", ["residence"]),
    "tax-registration": ("新办纳税人信息确认", "Tax registration", ["business"]),
}


def id_number(born: dt.date) -> str:
    """A valid number for this birth date: the first place code that existed in that year."""
    for place in ("110101", "110102", "110105", "130102", "370102", "410105", "510107"):
        body = f"{place}{born:%Y%m%d}123"
        try:
            return ric.validate(body + ric.calc_check_digit(body + "X"))  # it reads 17 of 18 characters
        except ValueError:
            continue
    raise AssertionError("no place code for " + born.isoformat())


def item(code: str, unit) -> ServiceItem:
    zh, en, tags = ITEMS[code]
    return ServiceItem.objects.create(code=code, name_zh=zh, name_en=en, tags=tags, unit=unit, time_limit_days=10)


def apply(citizen: Citizen, service: ServiceItem, status: str = "approved", *, days_ago: int = 100,
          decided: dt.datetime | None = None) -> Application:
    created = timezone.now() - dt.timedelta(days=days_ago)
    if status == "approved" and decided is None:
        decided = created + dt.timedelta(days=3)
    return Application.objects.create(
        number=f"SQ20250101{next(_numbers):05d}", service=service, citizen=citizen, status=status,
        unit=service.unit, created_at=created, submitted_at=created, decided_at=decided)


@dataclass
class World:
    items: dict[str, ServiceItem]
    zhang: Citizen
    others: list[Citizen]
    born: dt.date  # Zhang's birth date: 60 in 5 days


def world(city) -> World:
    items = {code: item(code, city.centre) for code in ITEMS}
    ProactiveRule.objects.create(kind="renewal", service=items["residence-permit"],
                                 renew_with=items["permit-endorsement"], valid_months=12, lead_working_days=20,
                                 grace_days=30)
    ProactiveRule.objects.create(kind="age", service=items["senior-card"], min_age=60, lead_working_days=10)
    others = []
    for i, history in enumerate([("birth-registration", "child-insurance", "childcare-subsidy"),
                                 ("birth-registration", "child-insurance", "childcare-subsidy"),
                                 ("birth-registration", "childcare-subsidy"),
                                 ("birth-registration", "child-insurance"),
                                 ("senior-card", "tax-registration"),
                                 ("senior-card", "tax-registration"),
                                 ("tax-registration",)]):
        c = Citizen.objects.create(name=f"市民{i}")
        others.append(c)
        for code in history:
            apply(c, items[code])
    today = timezone.localdate()
    target = today + dt.timedelta(days=5)  # Zhang turns 60 in 5 days
    if target.month == 2 and target.day == 29:
        target += dt.timedelta(days=1)
    born = target.replace(year=target.year - 60)
    assert birthday(born, 60) > today
    zhang = citizen_find_or_create(data=citizen_input_clean(name="张三", email=EMAIL, phone=PHONE,
                                                            id_number=id_number(born)))
    # a birth registered, the insurance still in review, a permit approved almost a year ago
    apply(zhang, items["birth-registration"], days_ago=60)
    apply(zhang, items["child-insurance"], "in_review", days_ago=20)
    permit_decided = timezone.now() - dt.timedelta(days=356)  # valid for about 9 more days
    apply(zhang, items["residence-permit"], days_ago=360, decided=permit_decided)
    return World(items, zhang, others, born)
