"""Which unit a new case goes to: the admin's rules of category × area.

The most specific rule wins: the leaf category before its parents, and for each category the
smallest area (grid, street, district) before the city-wide rule. No rule: the dispatcher decides.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    categories = _chain(category)
    areas = [*_chain(area), None]
    rules = {
        (r.category_id, r.area_id): r
        for r in DispatchRule.objects.filter(
            active=True, category__in=categories, unit__active=True
        ).select_related("unit")
    }
    for cat in categories:
        for ar in areas:
            rule = rules.get((cat.pk, ar.pk if ar else None))
            if rule:
                return RuleMatch(rule.pk, rule.unit, tuple(rule.co_units.filter(active=True)))
    return None
