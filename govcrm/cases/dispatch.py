"""Which unit a new case goes to: the admin's rules of category × area.

The most specific rule wins: the leaf category before its parents, and for each category the
smallest area (grid, street, district) before the city-wide rule. No rule: the dispatcher decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from govcrm.common.reference import cached
from govcrm.organization.models import Area, Unit

from .models import Category, DispatchRule


@dataclass(frozen=True)
class RuleMatch:
    rule_id: int
    unit: Unit
    co_units: tuple[Unit, ...]


def _chain(node) -> list:
    out = []
    while node is not None:
        out.append(node)
        node = node.parent
    return out


def rule_for(category: Category, area: Area | None) -> RuleMatch | None:
    rules = cached("dispatch_rules", _load_rules)
    for cat in _chain(category):
        for ar in [*_chain(area), None]:
            match = rules.get((cat.pk, ar.pk if ar else None))
            if match:
                return match
    return None


def _load_rules() -> dict[tuple[int, int | None], RuleMatch]:
    rules = DispatchRule.objects.filter(active=True, unit__active=True).select_related("unit")
    return {
        (r.category_id, r.area_id): RuleMatch(r.pk, r.unit, tuple(u for u in r.co_units.all() if u.active))
        for r in rules.prefetch_related("co_units")
    }
