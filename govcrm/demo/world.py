"""Everything the generator needs from the database, read once into plain Python.

The generator's worker processes are forked after this is loaded and never touch the database.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate

from govcrm.cases import deadlines
from govcrm.cases.models import Category, DispatchRule
from govcrm.organization.models import Area, Role, StaffProfile, Unit

from . import city, phrases
from .clock import DAY, FastCalendar
from .lifecycle import Staff


@dataclass(frozen=True)
class GridInfo:
    grid: city.Grid
    area_id: int
    street_unit: int
    district_unit: int


@dataclass(frozen=True)
class LeafInfo:
    leaf: phrases.Leaf
    category_id: int
    top: str  # first-level category code
    urgent: bool  # safety-related: more urgent and critical cases


@dataclass
class World:
    now: int
    first: int  # earliest case time
    cal: FastCalendar
    staff: Staff
    unit_codes: dict[int, str]
    unit_names: dict[int, tuple[str, str]]
    unit_kind: dict[int, str]
    units: dict[str, int]  # code -> id
    leaves: list[LeafInfo]
    leaf_cum: list[float]
    unrouted: list[LeafInfo]
    grids: list[GridInfo]
    grid_cum: list[float]
    limits: dict[tuple[int, str], tuple[int, int, int]]
    rules: dict[tuple[int, int | None], tuple[int, int, tuple[int, ...]]]
    category_chain: dict[int, list[int]]
    area_chain: dict[int, list[int | None]]
    agent_ids: frozenset[int] = field(default_factory=frozenset)

    def route(self, category_id: int, area_id: int | None) -> tuple[int, int, tuple[int, ...]] | None:
        """The dispatch rule that `cases.dispatch.rule_for` picks: leaf before parents, small area first."""
        areas = self.area_chain.get(area_id, [None]) if area_id is not None else [None]
        for cat in self.category_chain[category_id]:
            for area in areas:
                rule = self.rules.get((cat, area))
                if rule is not None:
                    return rule
        return None

    def pick_leaf(self, r: float) -> LeafInfo:
        return self.leaves[bisect_right(self.leaf_cum, r * self.leaf_cum[-1])]

    def pick_grid(self, r: float) -> GridInfo:
        return self.grids[bisect_right(self.grid_cum, r * self.grid_cum[-1])]


def _actor(user_id, username, role, unit_id):
    return (user_id, username, str(role), unit_id)


def world_load(*, now: int, days: int) -> World:
    """Read units, areas, staff, categories, rules and policies of the demo city (which must exist)."""
    units = {u.code: u for u in Unit.objects.all()}
    areas = {a.code: a for a in Area.objects.all()}
    unit_codes = {u.pk: u.code for u in units.values()}

    staff_by_unit: dict[int, list] = {}
    agents, dispatchers, supervisors = [], [], []
    profiles = StaffProfile.objects.select_related("user").filter(user__is_active=True).order_by("user__username")
    for profile in profiles:
        actor = _actor(profile.user_id, profile.user.username, profile.role, profile.unit_id)
        if profile.role == Role.AGENT:
            agents.append(actor)
        elif profile.role == Role.DISPATCHER:
            dispatchers.append(actor)
        elif profile.role == Role.SUPERVISOR:
            supervisors.append(actor)
        elif profile.role in (Role.HANDLER, Role.MANAGER):
            staff_by_unit.setdefault(profile.unit_id, []).append(actor)
    if not (agents and dispatchers and supervisors):
        raise RuntimeError("The demo city has no centre staff: run city_ensure() first")
    staff = Staff(system=_actor(None, "system", Role.ADMIN, None), agents=tuple(agents),
                  dispatchers=tuple(dispatchers), supervisors=tuple(supervisors),
                  of_unit={k: tuple(v) for k, v in staff_by_unit.items()})

    categories = {c.code: c for c in Category.objects.all()}
    by_id = {c.pk: c for c in categories.values()}
    category_chain = {}
    for c in categories.values():
        chain, node = [], c
        while node is not None:
            chain.append(node.pk)
            node = by_id.get(node.parent_id)
        category_chain[c.pk] = chain
    area_by_id = {a.pk: a for a in areas.values()}
    area_chain = {}
    for a in areas.values():
        chain, node = [], a
        while node is not None:
            chain.append(node.pk)
            node = area_by_id.get(node.parent_id)
        area_chain[a.pk] = [*chain, None]

    rules = {}
    for rule in DispatchRule.objects.filter(active=True, unit__active=True).prefetch_related("co_units"):
        co = tuple(u.pk for u in rule.co_units.all() if u.active)
        rules[(rule.category_id, rule.area_id)] = (rule.pk, rule.unit_id, co)

    leaves = []
    for leaf in phrases.LEAVES:
        category = categories.get(leaf.code)
        if category is None or not category.active:
            continue
        urgent = leaf.code.startswith(("economy.utilities", "urban.roads.manhole", "urban.property.lift",
                                       "security.police"))
        leaves.append(LeafInfo(leaf, category.pk, leaf.code.split(".")[0], urgent))
    limits = {}
    for info in leaves:
        for urgency in ("normal", "urgent", "critical"):
            got = deadlines.limits_for(by_id[info.category_id], urgency)
            limits[(info.category_id, urgency)] = (got.accept_hours, got.contact_hours, got.reply_days)

    grids = []
    for g in city.GRIDS:
        if g.place.code not in areas:
            continue
        grids.append(GridInfo(g, areas[g.place.code].pk, units[city.district_unit_code(g.street.code)].pk,
                              units[city.district_unit_code(g.district.code)].pk))

    cal_model = deadlines.calendar_from_db()
    today = dt.datetime.fromtimestamp(now, cal_model.tz).date()
    first_day = today - dt.timedelta(days=days + 3)
    fast = FastCalendar(cal_model, first_day, today + dt.timedelta(days=500))
    return World(
        now=now,
        first=now - days * DAY,
        cal=fast,
        staff=staff,
        unit_codes=unit_codes,
        unit_names={u.pk: (u.name_zh, u.name_en or u.name_zh) for u in units.values()},
        unit_kind={u.pk: u.kind for u in units.values()},
        units={code: u.pk for code, u in units.items()},
        leaves=leaves,
        leaf_cum=list(accumulate(i.leaf.weight for i in leaves)),
        unrouted=[i for i in leaves if i.leaf.code in city.UNROUTED],
        grids=grids,
        grid_cum=list(accumulate(g.grid.place.population for g in grids)),
        limits=limits,
        rules=rules,
        category_chain=category_chain,
        area_chain=area_chain,
        agent_ids=frozenset(a[0] for a in agents),
    )
