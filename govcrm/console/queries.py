"""Reads the console needs beyond `cases.queries`: choices for its forms and the caller lookup.

Rules:
- Case reads are not made here: they go through `govcrm.cases.queries`, scoped by the actor.
- Only leaf categories (no active children) may be chosen at intake; the picker searches the
  code, both names, the keywords and the parents' names, so 路灯 and "street light" both work.
- The caller lookup is for centre roles only (the intake view checks); identities are shown
  through `citizens.queries.citizen_view`, masked by the reader's role.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import get_language

from govcrm.cases.models import Case, Category
from govcrm.cases.queries import case_list_for_citizen
from govcrm.citizens import identities
from govcrm.citizens.actions import citizen_find
from govcrm.citizens.queries import CitizenView, citizen_view
from govcrm.common.reference import cached
from govcrm.organization.models import StaffProfile, Unit
from govcrm.organization.queries import Actor, area_list, unit_list

CALLER_CASES_SHOWN = 20


@dataclass(frozen=True)
class CategoryChoice:
    code: str
    name: str  # in the active language
    other_name: str  # in the other language (zh ↔ en), "" when the same or missing
    path: str  # parents' names, "城乡建设 › 路灯照明"
    haystack: str

    @property
    def label(self) -> str:
        both = f"{self.name} · {self.other_name}" if self.other_name else self.name
        return f"{both} ({self.code})"


def _category_choices() -> list[CategoryChoice]:
    nodes = {c.pk: c for c in Category.objects.filter(active=True).order_by("code")}
    parents = {c.parent_id for c in nodes.values() if c.parent_id}
    out = []
    for c in nodes.values():
        if c.pk in parents:
            continue
        chain = []
        p = nodes.get(c.parent_id)
        while p is not None:
            chain.append(p)
            p = nodes.get(p.parent_id)
        chain.reverse()
        words = [c.code, c.name_zh, c.name_en, c.keywords]
        words += [x for p in chain for x in (p.name_zh, p.name_en)]
        other = c.name_en if c.name == c.name_zh else c.name_zh
        out.append(CategoryChoice(c.code, c.name, other if other != c.name else "",
                                  " › ".join(p.name for p in chain), " ".join(words).lower()))
    return out


def category_leaves(q: str = "") -> list[CategoryChoice]:
    """Leaf categories matching every word of `q` (all of them when `q` is empty)."""
    words = (q or "").lower().split()
    return [c for c in _category_choices() if all(w in c.haystack for w in words)]


def category_options() -> list[tuple[str, str]]:
    """Every active category, indented by level, for the search filter (any level filters a subtree).

    The three option lists of the search form are reference data (common/reference.py: kept per
    process and language, cleared when a category, unit or area is saved): building them was a
    third of a search page's CPU (bench/RESULTS.md, session 6).
    """
    return cached(f"console_category_options:{get_language()}", lambda: [
        (c.code, "\u2003" * (c.level - 1) + f"{c.name} ({c.code})")
        for c in Category.objects.filter(active=True).order_by("code")])


def _indented(nodes) -> list[tuple[str, str]]:
    return [(n.code, "\u2003" * (n.path.count("/") - 2) + n.name) for n in nodes]


def unit_options() -> list[tuple[str, str]]:
    return cached(f"console_unit_options:{get_language()}", lambda: _indented(unit_list().order_by("path")))


def subunit_options(unit: Unit | None) -> list[tuple[str, str]]:
    """Units below `unit` (for a second-level dispatch 二级派单)."""
    if unit is None:
        return []
    return _indented(unit_list().filter(path__startswith=unit.path).exclude(pk=unit.pk).order_by("path"))


def area_options() -> list[tuple[str, str]]:
    return cached(f"console_area_options:{get_language()}", lambda: _indented(area_list().order_by("path")))


@dataclass(frozen=True)
class Caller:
    phone: str  # normalised (E.164)
    citizen: CitizenView | None
    cases: list[Case]


def caller_lookup(actor: Actor, phone: str) -> Caller:
    """The caller's record and recent cases, found by phone; ValidationFailed for a bad number."""
    normalised = identities.normalise(identities.PHONE, phone, field="phone")
    citizen = citizen_find(kind=identities.PHONE, normalised=normalised)
    if citizen is None:
        return Caller(normalised, None, [])
    cases = list(case_list_for_citizen(citizen.pk)[:CALLER_CASES_SHOWN])
    return Caller(normalised, citizen_view(citizen, actor), cases)


def staff_language(user) -> str | None:
    """The language a staff member chose, or None for a user without a staff profile."""
    return StaffProfile.objects.filter(user=user).values_list("language", flat=True).first()
