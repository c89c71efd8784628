"""Factories for cases: built through the real actions, so history and deadlines are consistent."""

from __future__ import annotations

from govcrm.cases.actions import CaseInput, case_register, case_transition
from govcrm.cases.models import Case, Category, DispatchRule
from govcrm.citizens.actions import citizen_input_clean
from govcrm.organization.queries import Actor

LEAF = "urban.lighting.out"  # 路灯不亮
OTHER_LEAF = "environment.noise.commercial"


def dispatch_rule(category: str, unit, area=None) -> DispatchRule:
    return DispatchRule.objects.create(category=Category.objects.get(code=category), unit=unit, area=area)


def register(actor: Actor, **overrides) -> Case:
    citizen = overrides.pop("citizen", {"name": "张三", "phone": "+8613800138000"})
    fields = {
        "category": LEAF,
        "case_type": "complaint",
        "description": "和平街12号门口的路灯坏了三天，晚上很黑。",
        "area": "d1s1g1",
        "channel": "phone",
    }
    fields.update(overrides)
    data = CaseInput(citizen=citizen_input_clean(**citizen) if citizen else None, **fields)
    return case_register(actor=actor, data=data)


def move(actor: Actor, case: Case | str, action: str, **data) -> Case:
    reason = data.pop("reason", "")
    return case_transition(actor=actor, case=case, action=action, data=data, reason=reason)
