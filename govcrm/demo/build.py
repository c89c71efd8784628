"""Turns a slice of the schedule into database rows: citizens, identities, cases, events, assignments.

Rules:
- A slice is built from the world, the schedule and a seed alone (no database), so slices can
  be built in parallel processes and the result does not depend on how many there are.
- Column lists are the models' own columns; `columns_check` fails loudly when a model gains a
  column the generator does not fill.
- What a case is about (category, place, type, urgency, channel) and what happens to it (the
  `Plan`) are drawn here; `lifecycle` plays the plan out.
"""

from __future__ import annotations

import random
import zlib
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass
from itertools import accumulate

from govcrm.cases.models import Case, CaseAssignment, CaseEvent
from govcrm.cases.workflow import Status
from govcrm.citizens import crypto, identities
from govcrm.citizens.models import Citizen, Identity

from . import city, phrases
from .clock import DAY, Stamps
from .lifecycle import Flow, Life, Plan, Stop, jdata, picker
from .schedule import Schedule
from .texts import TextBuilder, join
from .world import GridInfo, World

CITIZEN_COLUMNS = ("id", "created_at", "updated_at", "kind", "name", "preferred_channel", "language",
                   "consent_contact", "consent_data", "sms_opt_out", "merged_into_id")
IDENTITY_COLUMNS = ("created_at", "updated_at", "citizen_id", "kind", "value_stored", "blind_index", "masked")
CASE_COLUMNS = (
    "id", "created_at", "updated_at", "number", "query_code", "case_type", "urgency", "category_id", "status",
    "close_reason", "channel", "title", "description", "address", "area_id", "lat", "lon", "citizen_id",
    "language", "registered_by_id", "lead_unit_id", "dispatch_count", "return_count", "reopen_count",
    "supervision_level", "accept_due", "contact_due", "reply_due", "dispatched_at", "accepted_at",
    "first_contact_at", "replied_at", "closed_at", "paused_at", "pause_reason", "extension_pending_days", "reply",
    "resolved", "satisfied", "rating", "merged_into_id", "search_text", "anonymised_at", "version",
)
EVENT_COLUMNS = ("case_id", "seq", "action", "actor_id", "actor_name", "actor_role", "actor_unit_id", "at",
                 "from_status", "to_status", "reason_code", "reason", "data", "public")
ASSIGNMENT_COLUMNS = ("case_id", "unit_id", "role", "active", "created_at")
TABLES = (
    (Citizen, CITIZEN_COLUMNS),
    (Identity, IDENTITY_COLUMNS),
    (Case, CASE_COLUMNS),
    (CaseEvent, EVENT_COLUMNS),
    (CaseAssignment, ASSIGNMENT_COLUMNS),
)


def columns_check() -> None:
    """Every column of the tables written must be filled (or be the auto id)."""
    for model, columns in TABLES:
        have = {f.column for f in model._meta.concrete_fields}
        missing = have - set(columns) - {"id"}
        unknown = set(columns) - have
        if missing or unknown:
            raise RuntimeError(f"The demo generator is out of step with {model.__name__}: "
                               f"missing {sorted(missing)}, unknown {sorted(unknown)}")


@dataclass
class Rows:
    citizens: list[tuple]
    identities: list[tuple]
    cases: list[tuple]
    events: list[tuple]
    assignments: list[tuple]


# --- draws ------------------------------------------------------------------------------------------
_TYPE_CUM = {kind: list(accumulate(w)) for kind, w in phrases.TYPE_WEIGHTS.items()}
_CHANNELS_ZH = ("phone", "wechat", "portal", "sms", "email", "open311", "api", "fax", "walk_in")
_CHANNEL_CUM_ZH = list(accumulate((52, 13, 11, 4, 2, 2, 6, 1, 3)))
_CHANNELS_EN = ("phone", "portal", "email", "open311", "api", "wechat")
_CHANNEL_CUM_EN = list(accumulate((30, 25, 20, 15, 5, 5)))
_AGENT_CHANNELS = frozenset({"phone", "walk_in", "fax"})
_CITIZEN_CHANNEL = {"phone": "phone", "walk_in": "phone", "fax": "phone", "sms": "sms", "email": "email",
                    "wechat": "wechat", "portal": "portal", "open311": "portal", "api": "portal"}
_OPEN_RECENT = ("registered", "dispatched", "accepted", "in_progress", "returned", "replied", "follow_up")
_OPEN_RECENT_CUM = list(accumulate((10, 20, 12, 30, 5, 8, 15)))
_OPEN_OLD = ("accepted", "in_progress", "returned", "replied", "follow_up")
_OPEN_OLD_CUM = list(accumulate((15, 55, 10, 10, 10)))
_PHONE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
                   "156", "157", "158", "159", "166", "176", "177", "180", "181", "182", "183", "185", "186",
                   "187", "188", "189", "198", "199")


def _pick(rng: random.Random, items, cum):
    return items[bisect_right(cum, rng.random() * cum[-1])]


def compound_spot(grid: city.Place, index: int, u: float, v: float) -> tuple[float, float]:
    """A point near the `index`th compound of a grid, from two uniform draws: the compound sits at
    a fixed spot of the grid's box (away from its edges), its cases within ±0.0012° of it."""
    s, w, n, e = grid.box
    h = zlib.crc32(f"{grid.code}:{index}".encode())
    lat0 = s + (n - s) * (0.2 + 0.6 * (h % 1000) / 1000)
    lon0 = w + (e - w) * (0.2 + 0.6 * (h // 1000 % 1000) / 1000)
    return round(lat0 + (u - 0.5) * 0.0024, 6), round(lon0 + (v - 0.5) * 0.0024, 6)


def demo_phone(citizen_id: int) -> str:
    """A valid mobile number in E.164, different for every citizen id below 3.2 billion."""
    prefix = _PHONE_PREFIXES[citizen_id % len(_PHONE_PREFIXES)]
    rest = (citizen_id // len(_PHONE_PREFIXES) * 7919 + 12_345_678) % 100_000_000  # 7919 is prime: a bijection
    return f"+86{prefix}{rest:08d}"


class Builder:
    """Builds slices of one schedule; keeps the text memo between slices of the same process."""

    def __init__(self, world: World, schedule: Schedule, *, seed: int, vendor: str,
                 taken_phones: frozenset[str] = frozenset()) -> None:
        self.world, self.schedule, self.seed = world, schedule, seed
        self.stamp = Stamps(world.cal.midnight[0], world.cal.last_midnight, suffix="+00" if vendor == "postgresql"
                            else "")
        self.texts = TextBuilder()
        self.taken_phones = taken_phones
        self.units = world.units
        self.routes: dict[tuple, tuple | None] = {}

    # --- one slice -------------------------------------------------------------------------------
    def build(self, index: int, start: int, stop: int) -> Rows:
        rng = random.Random(self.seed * 1_000_003 + index)  # noqa: S311 - seeded demo data, on purpose
        self.pick = picker(rng)
        rows = Rows([], [], [], [], [])
        recent: dict[int, deque] = {}
        done: list[tuple[Life, list]] = []
        for i in range(start, stop):
            done.append(self._case(rng, i, rows, recent))
        # Events last: a later case of the slice may have been merged into an earlier one.
        stamp = self.stamp
        days, d0, hms = stamp.days, stamp.d0, stamp.hms
        append = rows.events.append
        for life, row in done:
            case_id = row[0]
            row[2] = stamp(life.updated_at)
            row[-1] = len(life.events)  # every move, and every merge into the case, adds one to its version
            rows.cases.append(tuple(row))
            for seq, (action, actor, at, frm, to, reason_code, reason, data, public) in enumerate(life.events, 1):
                append((case_id, seq, action, actor[0], actor[1], actor[2], actor[3],
                        days[at // DAY - d0] + hms[at % DAY], frm, to, reason_code, reason, data, public))
        return rows

    def _citizen(self, rng: random.Random, cid: int, t0: int, english: bool, channel: str, rows: Rows) -> None:
        fmt = self.stamp(t0)
        kind = Citizen.Kind.PERSON
        if english:
            name = f"{self.pick(phrases.EN_FIRST)} {self.pick(phrases.EN_LAST)}"
        elif rng.random() < 0.03:
            kind = Citizen.Kind.ENTERPRISE
            stem = self.pick(phrases.GIVEN) + self.pick(phrases.GIVEN)
            name = f"示范市{stem}{self.pick(phrases.ENTERPRISES)[0]}有限公司"
        else:
            given = "".join(self.pick(phrases.GIVEN) for _ in range(self.pick((1, 2, 2))))
            name = self.pick(phrases.SURNAMES) + given
        rows.citizens.append((cid, fmt, fmt, kind, name, _CITIZEN_CHANNEL[channel], "en" if english else "zh-hans",
                              True, True, rng.random() < 0.02, None))
        phone = demo_phone(cid)
        blind = crypto.blind_index(identities.PHONE, phone)
        if blind not in self.taken_phones:
            rows.identities.append((fmt, fmt, cid, identities.PHONE, crypto.encrypt(phone), blind,
                                    identities.mask(identities.PHONE, phone)))

    def _place(self, rng: random.Random, grid: GridInfo, english: bool):
        g = grid.grid
        s, w, n, e = g.place.box
        u, v = rng.random(), rng.random()
        lat, lon = round(s + (n - s) * u, 6), round(w + (e - w) * v, 6)
        lang = 1 if english else 0
        district, street = (g.district.name_en, g.street.name_en) if english else (g.district.name_zh,
                                                                                      g.street.name_zh)
        picked = self.pick(g.compounds)
        compound = picked[lang]
        if rng.random() < 0.6:
            where = self.pick(g.roads)[lang]
            n_ = 1 + int(rng.random() * 60)  # few distinct addresses: each is segmented once
            address = (f"{n_} {where}, {street}, {district}, Demo City" if english
                       else f"示范市{district}{street}{where}{n_}号")
        else:
            where = compound
            # A compound is one place: its cases lie within about 130 m of it (the map's hotspots).
            lat, lon = compound_spot(g.place, g.compounds.index(picked), u, v)
            b = 1 + int(rng.random() * 24)
            address = (f"Building {b}, {where}, {street}, {district}, Demo City" if english
                       else f"示范市{district}{street}{where}{b}栋")
        return lat, lon, where, address, {"district": district, "street": street, "compound": compound}

    def _first_unit(self, info, grid: GridInfo | None, rule) -> int:
        if rule is not None:
            return rule[1]
        code = info.leaf.code
        choice = city.UNROUTED.get(code)
        route = city.ROUTES.get(code)
        if choice == "district" or (route and route[0] == "district"):
            return grid.district_unit if grid else self.units["govservices"]
        if route and route[0] == "street":
            return grid.street_unit if grid else self.units[city.DEPARTMENT_OF[info.top]]
        return self.units[choice or route[1]]

    def _case(self, rng: random.Random, i: int, rows: Rows, recent: dict) -> tuple[Life, list]:
        world, sched = self.world, self.schedule
        r = rng.random
        now = world.now
        t0 = sched.t0[i]
        case_id = sched.first_case_id + i
        number = sched.numbers[i]
        english = bool(sched.english[i])
        forced = sched.forced.get(i)
        info = self.pick(world.unrouted) if forced == "registered" and world.unrouted else world.pick_leaf(r())
        leaf = info.leaf

        grid = None
        area_id = lat = lon = None
        where = address = ""
        who: dict[str, str] = {}
        if leaf.located:
            grid = world.pick_grid(r())
            area_id = grid.area_id if r() < 0.97 else None  # a few addresses the agent could not place
            lat, lon, where, address, who = self._place(rng, grid, english)
            if area_id is None:
                lat = lon = None
        case_type = phrases.CASE_TYPES[bisect_right(_TYPE_CUM[leaf.kind], r() * _TYPE_CUM[leaf.kind][-1])]
        u = r()
        if info.urgent:
            urgency = "normal" if u < 0.7 else "urgent" if u < 0.92 else "critical"
        else:
            urgency = "normal" if u < 0.9 else "urgent" if u < 0.98 else "critical"
        channel = _pick(rng, _CHANNELS_EN, _CHANNEL_CUM_EN) if english else _pick(rng, _CHANNELS_ZH, _CHANNEL_CUM_ZH)

        key = (info.category_id, area_id)
        rule = self.routes[key] if key in self.routes else self.routes.setdefault(key, world.route(*key))
        first_unit = self._first_unit(info, grid, rule)
        plan = self._plan(rng, info, grid, rule, first_unit, case_type, channel, t0, forced)
        unit_name = world.unit_names[first_unit][1 if english else 0]
        shop = self.pick(phrases.SHOPS)[1 if english else 0]
        title, fragments = self.texts.compose(rng, leaf=leaf, case_type=case_type, english=english, where=where,
                                              shop=shop, who=who, unit_name=unit_name, pick=self.pick)
        description = join(fragments, english=english)
        search_text = self.texts.search_text(title, fragments, address)

        agent_channel = channel in _AGENT_CHANNELS
        register_actor = self.pick(world.staff.agents) if agent_channel else world.staff.system
        life = Life(cal=world.cal, now=now, staff=world.staff, rng=rng, unit_codes=world.unit_codes,
                    limits=world.limits[(info.category_id, urgency)], t0=t0, english=english,
                    squeeze=plan.squeeze, number=number)
        Flow(life, plan, channel=channel, unit_names=world.unit_names).run(register_actor=register_actor)
        if plan.target == "merged" and life.status != Status.CLOSED:
            self._merge(rng, life, recent.get(info.category_id, ()), grid)

        citizen_id = sched.citizen[i] or None
        if citizen_id and sched.new_citizen[i]:
            self._citizen(rng, citizen_id, t0, english, channel, rows)
        recent.setdefault(info.category_id, deque(maxlen=20)).append((life, case_id, grid))
        stamp = self.stamp
        rows.assignments.extend((case_id, a[0], a[1], a[2], stamp(a[3])) for a in life.assignments)
        return life, [
            case_id, stamp(t0), None, number, f"{rng.randrange(1_000_000):06d}", case_type, urgency,
            info.category_id, life.status, life.close_reason, channel, title, description, address, area_id, lat, lon,
            citizen_id, "en" if english else "zh-hans", register_actor[0], life.lead, life.dispatch_count,
            life.return_count, life.reopen_count, life.supervision_level, stamp(life.accept_due),
            stamp(life.contact_due), stamp(life.reply_due), stamp(life.dispatched_at), stamp(life.accepted_at),
            stamp(life.first_contact_at), stamp(life.replied_at), stamp(life.closed_at), stamp(life.paused_at),
            life.pause_reason, life.extension_pending_days, life.reply, life.resolved, life.satisfied, life.rating,
            life.merged_into, search_text, None, None,  # anonymised_at (retention), version (set below)
        ]

    def _plan(self, rng, info, grid, rule, first_unit, case_type, channel, t0, forced) -> Plan:
        world = self.world
        r = rng.random
        if forced:
            target, squeeze = forced, True
        else:
            squeeze = False
            age = (world.now - t0) / DAY
            p_open = 0.45 if age < 2 else 0.12 if age < 10 else 0.02 if age < 45 else 0.002
            if r() < p_open:
                target = (_pick(rng, _OPEN_RECENT, _OPEN_RECENT_CUM) if age < 10
                          else _pick(rng, _OPEN_OLD, _OPEN_OLD_CUM))
            elif ((case_type == "inquiry" and channel in _AGENT_CHANNELS and r() < 0.65)
                  or (case_type == "praise" and r() < 0.5)):
                target = "first_contact"
            else:
                x = r()
                target = "withdrawn" if x < 0.02 else "merged" if x < 0.03 else Status.CLOSED
        if target == Status.REGISTERED and rule is not None:
            target = Status.DISPATCHED
        stage = ""
        if target == "withdrawn":
            stages = ["dispatched", "dispatched", "accepted", "in_progress", "in_progress"]
            if rule is None:
                stages.append("registered")
            stage = self.pick(stages)
        elif target == "merged":
            stage = Status.REGISTERED if rule is None else Status.DISPATCHED
        kind = world.unit_kind[first_unit]
        district_unit = first_unit if kind == "district" else None
        top_department = self.units[city.DEPARTMENT_OF[info.top]]
        if kind in ("street", "district"):
            alt = top_department
        elif grid is not None:
            alt = grid.street_unit
        else:
            alt = top_department if top_department != first_unit else self.units["govservices"]
        return Plan(
            target=target, stage=stage, rule=rule, manual_unit=None if rule else first_unit,
            district_unit=district_unit, street_unit=grid.street_unit if grid and district_unit else None,
            alt_unit=alt, returned=target == Status.RETURNED or r() < 0.05, transfer=r() < 0.02,
            pause=r() < (0.12 if target == Status.IN_PROGRESS else 0.02),
            extension=r() < (0.2 if target == Status.IN_PROGRESS else 0.05), send_back=r() < 0.04,
            note=r() < 0.1, late=r() < (0.18 if case_type == "complaint" else 0.1), squeeze=squeeze,
        )

    def _merge(self, rng: random.Random, life: Life, candidates, grid) -> None:
        """Merge a duplicate into a recent open case of the same category and place, else withdraw it."""
        world = self.world
        try:
            t = life.fit(life.later(life.last_at, 0.5, 300))
        except Stop:  # would happen after now: the duplicate is still open
            life.overdue_check(world.now + 1)
            return
        dispatcher = self.pick(world.staff.dispatchers)
        for other, other_id, other_grid in reversed(candidates):
            if other_grid is not grid or other.t0 >= t:
                continue
            if other.insert_merged_in(t, dispatcher, life.number):
                t = life.ev("merge", t, dispatcher, data=jdata(into=other.number))
                life.closed_at, life.close_reason, life.merged_into = t, "merged", other_id
                return
        t = life.ev("withdraw", t, self.pick(world.staff.agents), reason=phrases.WITHDRAW_REASONS[2])
        life.closed_at, life.close_reason = t, "withdrawn"
