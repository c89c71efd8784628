"""The online services in the demo city (`govcrm demo`): the three processes and items, a manager
account for each responsible unit, and a few applications in various states, made through the real
actions (so their histories, work items and process states are what a real run leaves).

Idempotent: the processes and items are loaded each time (unchanged files stay one version); the
sample applications are made once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from govcrm.cases.deadlines import calendar_from_db
from govcrm.citizens.actions import citizen_find_or_create, citizen_input_clean
from govcrm.organization.models import Role, StaffProfile, Unit

from . import actions
from .integrations import credit_code_with_check, id_number_with_check
from .loading import load_catalogue, load_processes
from .models import Application, ServiceItem, WorkItem

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MANAGERS = {"civil": "manager_civil", "market": "manager_market", "police": "manager_police"}


@dataclass(frozen=True)
class Summary:
    processes: int
    items: int
    applications: int

    @property
    def line(self) -> str:
        return (f"Online services: {self.processes} process versions, {self.items} online items, "
                f"{self.applications} sample applications added.")


def _accounts(password: str) -> dict[str, object]:
    user_model = get_user_model()
    users = {}
    for unit_code, username in MANAGERS.items():
        unit = Unit.objects.filter(code=unit_code).first()
        if unit is None:
            continue
        user, created = user_model.objects.get_or_create(username=username,
                                                         defaults={"password": make_password(password)})
        if created:
            StaffProfile.objects.create(user=user, role=Role.MANAGER, unit=unit)
        users[f"{unit_code}_manager"] = user
        handler = user_model.objects.filter(username=f"handler_{unit_code}").first()
        if handler is not None:
            users[f"{unit_code}_handler"] = handler
    return users


def _submit(code: str, form: dict, citizen, when: dt.datetime) -> Application:
    service = ServiceItem.objects.get(code=code)
    uploads = [actions.Upload(key=m["key"], name=f"{m['key']}.pdf", data=PDF) for m in service.materials
               if m.get("required")]
    return actions.application_submit(service=service, citizen=citizen, raw_form=form, uploads=uploads,
                                      language=citizen.language, now=when)


def _step(application: Application, user, decision: str, when: dt.datetime, note: str = "",
          claim_only: bool = False) -> None:
    item = application.work_items.filter(state=WorkItem.State.OPEN).first()
    if item is None or user is None:
        return
    actions.work_item_claim(work_item_id=item.pk, actor=user, now=when)
    if not claim_only:
        actions.work_item_complete(work_item_id=item.pk, actor=user, now=when + dt.timedelta(hours=1),
                                   raw_answers={"decision": decision, "note": note})


def services_demo_ensure(*, password: str, now: dt.datetime | None = None) -> Summary:
    now = now or timezone.now()
    processes = sum(created for _d, created in load_processes())
    items = sum(1 for _code, note in load_catalogue() if note in {"created", "updated"})
    users = _accounts(password)
    if items == 0 or Application.objects.filter(process_definition__isnull=False).exists():
        return Summary(processes, items, 0)
    cal = calendar_from_db()

    def ago(days: int) -> dt.datetime:
        """`days` working days before now, at 10:00."""
        day = timezone.localtime(now).date()
        while days > 0:
            day -= dt.timedelta(days=1)
            days -= cal.is_workday(day)
        return dt.datetime.combine(day, dt.time(10), timezone.get_current_timezone())

    people = []
    for i, (name, language) in enumerate([("李秀英", "zh-hans"), ("王建国", "zh-hans"), ("Emily Chen", "en"),
                                          ("赵敏", "zh-hans"), ("刘洋", "zh-hans"), ("陈静", "zh-hans")]):
        people.append(citizen_find_or_create(data=citizen_input_clean(
            name=name, language=language, email=f"applicant{i + 1}@example.cn")))

    def senior(birth: dt.date, years: int, serial: str) -> dict:
        return {"name": "老人", "id_number": id_number_with_check(f"110101{birth:%Y%m%d}{serial}"),
                "address": "和平街道和平里1号", "residence_years": years, "applicant_relation": "child"}

    def residence(since: str, basis: str, serial: str) -> dict:
        return {"name": "申请人", "id_number": id_number_with_check(f"510104{dt.date(1994, 5, 2):%Y%m%d}{serial}"),
                "address": "安定街道安定路8号", "resident_since": since, "basis": basis, "employer": "示范科技有限公司"}

    def licence(change: str, code: str) -> dict:
        return {"company_name": "示范贸易有限公司", "credit_code": credit_code_with_check(code), "change_type": change,
                "change_details": "变更前：和平街道1号；变更后：安定街道8号", "contact_name": "周经理"}

    made = []
    a = _submit("senior-allowance", senior(dt.date(1938, 4, 9), 40, "221"), people[0], ago(12))
    _step(a, users.get("civil_handler"), "approve", ago(10))
    _step(Application.objects.get(pk=a.pk), users.get("civil_manager"), "approve", ago(8), "自下月起每月发放300元")
    made.append(a)
    made.append(_submit("senior-allowance", senior(dt.date(1950, 1, 1), 30, "332"), people[1], ago(6)))  # DMN: under 80
    a = _submit("senior-allowance", senior(dt.date(1944, 2, 2), 12, "443"), people[1], ago(3))
    _step(a, users.get("civil_handler"), "", ago(2), claim_only=True)  # in review
    made.append(a)
    made.append(_submit("residence-permit", residence("2024-03-01", "employment", "114"), people[2], ago(1)))
    a = _submit("residence-permit", residence("2023-09-01", "housing", "225"), people[3], ago(14))
    _step(a, users.get("police_handler"), "approve", ago(12))
    _step(Application.objects.get(pk=a.pk), users.get("police_manager"), "approve", ago(11))
    made.append(a)
    a = _submit("business-licence-change", licence("address", "91110000MA01ABCD1"), people[4], ago(2))
    _step(a, users.get("market_handler"), "accept", ago(1))
    made.append(a)
    a = _submit("business-licence-change", licence("legal_representative", "91110000MA01WXY22"), people[5], ago(1))
    _step(a, users.get("market_handler"), "accept", ago(0))
    made.append(a)
    # Past its legal limit (3 working days): the worker's timer escalates it.
    made.append(_submit("business-licence-change", licence("business_scope", "91110000MA01QRT33"), people[5], ago(6)))
    actions.application_timers_fire(now=now)
    return Summary(processes, items, len(made))
