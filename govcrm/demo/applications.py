"""Historical applications for public services, drawn from plausible life events of the demo citizens.

`applications_ensure(seed=…)` (called by `govcrm demo`) adds the offline service items of
`service_catalogue.py` that are missing, the proactive-notice rules of `govcrm.personal`, and
for every demo citizen who has no application yet: a life profile (a *persona*), a resident ID
number consistent with it (birth date; a local or another province's place code; encrypted and
blind-indexed like every ID number), and the applications that persona leads to, with their
events. The online items (`service_catalogue.ONLINE_CODES`) come from `govcrm.services`; a
persona step for an item that does not exist is skipped, so the result depends only on the
seed, the citizens and the catalogue present.

Rules of the draw (`plan_histories`, pure, also used by `bench/recommend.py --synthetic`):
- A citizen's personas are drawn with weights raised by the categories of their past cases
  (someone who called about school places is likelier to be a parent of a school child, a caller
  about pensions older); an enterprise is a business owner. About half of the people have none:
  they use no service but the hotline.
- Each persona has an event (a birth, a move into a rented flat, a new shop…) in the last three
  years and a script of steps (service, probability, delay in days, spread); an age-bound step
  (senior card at 60, bus card at 65, senior allowance at 80) only when the person is old enough.
- Renewable permits are renewed some weeks before they run out (most, not all), so some are due now.
- Noise: one application of a random popular service for some citizens, steps skipped, refusals,
  withdrawals; applications of the last weeks are still open (but for the online items, whose
  open applications need a process state: `govcrm.services`' demo makes those through its actions).
- Randomness comes from `random.Random(seed · 1,000,003 + citizen id)`: a citizen's history does
  not depend on the others'.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from . import service_catalogue as catalogue

# --- personas ---------------------------------------------------------------------------------------
# name: (base weight, (case category prefixes that raise it), (min age, max age) at the event)
PERSONAS = {
    "newborn": (8, ("education", "health", "civil.marriage"), (24, 38)),
    "school": (7, ("education",), (30, 45)),
    "elderly": (10, ("civil.elderly", "labour.insurance.pension", "transport.bus", "health"), (60, 92)),
    "renter": (12, ("security.residence", "land.housing", "urban.property"), (20, 45)),
    "business": (5, ("economy.market", "commerce", "health.public.food", "environment.air.smoke"), (28, 60)),
    "jobseeker": (6, ("labour",), (20, 55)),
    "homeowner": (6, ("land.housing", "urban.property"), (28, 65)),
    "newlywed": (5, ("civil.marriage",), (22, 35)),
    "driver": (6, ("transport",), (22, 65)),
    "lowincome": (3, ("civil.assistance", "civil"), (30, 75)),
}
# persona: [(service code, probability, delay days, spread days, minimum age or None)]
SCRIPTS = {
    "newborn": [("birth-registration", 0.92, 12, 8, None), ("vaccination-certificate", 0.75, 20, 10, None),
                ("child-medical-insurance", 0.8, 35, 20, None), ("childcare-subsidy", 0.6, 55, 30, None),
                ("maternity-allowance", 0.45, 70, 30, None), ("hukou-transfer", 0.08, 60, 40, None),
                ("kindergarten-enrolment", 0.7, 1000, 60, None)],
    "school": [("school-enrolment", 0.9, 0, 15, None), ("rental-contract-filing", 0.25, -40, 20, None),
               ("residence-permit-endorsement", 0.2, -30, 20, None), ("kindergarten-enrolment", 0.15, 10, 20, None)],
    "elderly": [("senior-card", 0.7, 20, 60, 60), ("senior-bus-card", 0.6, 40, 60, 65),
                ("senior-allowance", 0.8, 15, 30, 80), ("pension-certification", 0.75, 30, 60, None),
                ("home-care-service", 0.25, 120, 90, 75), ("elderly-meal-assistance", 0.3, 90, 90, 60),
                ("medical-insurance-transfer", 0.1, 200, 100, None), ("elderly-care-subsidy", 0.06, 300, 100, 80)],
    "renter": [("residence-registration", 0.85, 3, 3, None), ("rental-contract-filing", 0.5, 15, 10, None),
               ("residence-permit", 0.75, 190, 20, None), ("housing-fund-withdrawal", 0.6, 45, 30, None),
               ("rental-subsidy", 0.15, 80, 60, None), ("school-enrolment", 0.1, 250, 100, None)],
    "business": [("tax-registration", 0.6, 5, 5, None), ("employer-social-insurance", 0.45, 20, 10, None),
                 ("outdoor-signage-permit", 0.4, 25, 15, None), ("fire-safety-inspection", 0.35, 15, 10, None),
                 ("food-business-licence", 0.35, 20, 15, None), ("business-licence-change", 0.55, 200, 150, None),
                 ("business-deregistration", 0.04, 600, 200, None)],
    "jobseeker": [("employment-registration", 0.85, 5, 5, None), ("unemployment-benefit", 0.65, 15, 10, None),
                  ("skills-training-subsidy", 0.35, 120, 60, None), ("medical-insurance-transfer", 0.1, 60, 40, None)],
    "homeowner": [("property-certificate", 0.9, 30, 20, None), ("hukou-transfer", 0.35, 70, 40, None),
                  ("housing-fund-withdrawal", 0.3, 20, 15, None), ("residential-parking-permit", 0.3, 40, 30, None),
                  ("school-enrolment", 0.12, 200, 100, None)],
    "newlywed": [("marriage-registration", 0.95, 0, 3, None), ("hukou-transfer", 0.2, 60, 30, None),
                 ("property-certificate", 0.15, 120, 60, None)],
    "driver": [("vehicle-inspection", 0.7, 20, 40, None), ("driving-licence-renewal", 0.5, 150, 120, None),
               ("residential-parking-permit", 0.35, 60, 60, None)],
    "lowincome": [("minimum-living-allowance", 0.8, 10, 10, None), ("disability-allowance", 0.3, 40, 30, None),
                  ("rental-subsidy", 0.3, 60, 30, None), ("medical-insurance-transfer", 0.1, 100, 60, None)],
}
# Renewals the citizens make (mirrors PROACTIVE_RULES): code -> (renewed with, valid months)
RENEWALS = {r[1]: (r[2], r[3]) for r in catalogue.PROACTIVE_RULES if r[0] == "renewal"}
MIN_AGES = {code: age for steps in SCRIPTS.values() for code, _p, _d, _s, age in steps if age is not None}
BUSINESS_CODES = frozenset(code for code, *_rest in SCRIPTS["business"])
RENEW_SHARE = 0.8
NOISE_SHARE = 0.15
SKIP_ALL_SHARE = 0.05
DAYS = 1000  # events over the last ~3 years
OPEN_DAYS = 21  # an application younger than this may still be open
ONLINE = frozenset(catalogue.ONLINE_CODES)

# Place codes of resident ID numbers: the demo city's (local people) and other provinces' (newcomers).
# A code must have existed in the birth year: most of today's county codes date from 1983, and
# people born before then carry the older ones (…20 "市区" of a province's capital).
LOCAL_PLACES = ("110101", "110102", "110105", "110106", "110107", "110108")
OTHER_PLACES = ("130102", "140105", "370102", "410105", "420106", "430103", "510107", "340104", "360103", "500103",
                "140120", "340120", "360120", "370120", "410120", "420120", "430120", "510120", "320120")


@dataclass(frozen=True)
class Person:
    """What the generator knows of a demo citizen."""

    citizen_id: int
    enterprise: bool = False
    categories: tuple[str, ...] = ()  # case category codes of their past cases


@dataclass
class Planned:
    citizen_id: int
    code: str
    created: dt.datetime
    status: str
    submitted: dt.datetime | None
    decided: dt.datetime | None


@dataclass
class PersonPlan:
    citizen_id: int
    personas: list[str]
    born: dt.date | None
    local: bool
    applications: list[Planned] = field(default_factory=list)


def _weights(person: Person) -> dict[str, float]:
    weights = {}
    for name, (base, prefixes, _ages) in PERSONAS.items():
        hits = sum(1 for c in person.categories for p in prefixes if c == p or c.startswith(p + "."))
        weights[name] = base * (1 + 2.5 * min(hits, 3))
    return weights


def _draw(rng: random.Random, weights: dict[str, float], skip: Iterable[str] = ()) -> str:
    names = [n for n in weights if n not in skip]
    return rng.choices(names, weights=[weights[n] for n in names])[0]


@functools.cache
def _workday(day: dt.date) -> bool:
    from govcrm.cases.deadlines import national_is_workday

    return national_is_workday(day)


def _office_time(rng: random.Random, day: dt.date, tz) -> dt.datetime:
    while not _workday(day):
        day += dt.timedelta(days=1)
    minute = 9 * 60 + int(rng.random() * 8 * 60)
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60, int(rng.random() * 60)), tz)


def _outcome(rng: random.Random, code: str, created: dt.datetime, now: dt.datetime):
    """(status, submitted, decided) of an application created at `created`, or None: not made."""
    age = (now - created).days
    online = code in ONLINE
    submitted = created if not online else created + dt.timedelta(minutes=5 + int(rng.random() * 120))
    if age < OPEN_DAYS and rng.random() < 0.75 - age / (OPEN_DAYS * 1.5):
        # An open application of an online item needs its BPMN process state: those are made through
        # the real actions by govcrm.services' own demo; here only decided ones.
        return None if online else (("submitted" if rng.random() < 0.45 else "in_review"), min(submitted, now), None)
    decided = created + dt.timedelta(days=1 + rng.random() * 12, hours=rng.random() * 6)
    if decided > now:
        return None if online else ("in_review", min(submitted, now), None)
    x = rng.random()
    if x < 0.06:
        return "rejected", submitted, decided
    if x < 0.12:
        return "withdrawn", submitted, submitted + (decided - submitted) / 2  # the withdrawal's time
    return "approved", submitted, decided


def _born(rng: random.Random, ages: tuple[int, int], event: dt.date) -> dt.date:
    lo, hi = ages
    age = lo + (hi - lo) * rng.random() ** (1.6 if hi > 80 else 1.0)  # fewer of the very old
    return event - dt.timedelta(days=int(age * 365.25))


def plan_histories(people: Iterable[Person], *, codes: Iterable[str], now: dt.datetime, seed: int = 1,
                   popular: dict[str, float] | None = None) -> list[PersonPlan]:
    """What each person applied for, from their personas (pure: no database)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    codes = frozenset(codes)
    popular = {c: w for c, w in (popular or _default_popularity()).items() if c in codes}
    pop_codes, pop_weights = list(popular), list(popular.values())
    today = now.astimezone(tz).date()
    plans = []
    for person in people:
        rng = random.Random(seed * 1_000_003 + person.citizen_id)  # noqa: S311 - seeded demo data
        weights = _weights(person)
        if person.enterprise:
            personas = ["business"] if rng.random() < 0.85 else []
        elif rng.random() < 0.5:
            personas = []
        else:
            personas = [_draw(rng, weights)]
            if rng.random() < 0.3:
                personas.append(_draw(rng, weights, skip=personas))
            if personas[0] == "newlywed" and rng.random() < 0.35:
                personas.append("newborn")
        plan = PersonPlan(person.citizen_id, personas, None, rng.random() < 0.7)
        if "renter" in personas:
            plan.local = rng.random() < 0.15
        if not personas:
            plans.append(plan)
            continue
        first_event = None
        for persona in personas:
            event = today - dt.timedelta(days=3 + int(rng.random() * DAYS))
            if persona == "newborn" and "newlywed" in personas and first_event is not None:
                event = first_event + dt.timedelta(days=300 + int(rng.random() * 500))
            if first_event is None:
                first_event = event
                if not person.enterprise:
                    plan.born = _born(rng, PERSONAS[persona][2], event)
            skip_all = rng.random() < SKIP_ALL_SHARE
            for step_index, (code, p, delay, spread, min_age) in enumerate(SCRIPTS[persona]):
                if code not in codes or rng.random() >= p or (skip_all and step_index > 0):
                    continue
                day = event + dt.timedelta(days=int(delay + spread * (2 * rng.random() - 1)))
                if min_age is not None:
                    if plan.born is None:
                        continue
                    reached = _birthday(plan.born, min_age)
                    if reached > today:
                        continue
                    day = max(day, reached + dt.timedelta(days=int(rng.random() * 40)))
                if day >= today:
                    continue
                _apply(rng, plan, code, day, now, tz, codes)
        if pop_codes and rng.random() < NOISE_SHARE:
            code = rng.choices(pop_codes, weights=pop_weights)[0]
            day = today - dt.timedelta(days=1 + int(rng.random() * DAYS))
            min_age = MIN_AGES.get(code)
            too_young = min_age is not None and (plan.born is None or _birthday(plan.born, min_age) > day)
            if not too_young and (not person.enterprise or code in BUSINESS_CODES):
                _apply(rng, plan, code, day, now, tz, codes)
        plan.applications.sort(key=lambda a: a.created)
        plans.append(plan)
    return plans


def _apply(rng, plan: PersonPlan, code: str, day: dt.date, now, tz, codes, depth: int = 0) -> None:
    if day >= now.astimezone(tz).date():
        return
    created = _office_time(rng, day, tz)
    if created >= now:
        return
    outcome = _outcome(rng, code, created, now)
    if outcome is None:
        return
    status, submitted, decided = outcome
    plan.applications.append(Planned(plan.citizen_id, code, created, status, submitted, decided))
    renewal = RENEWALS.get(code)
    if status == "approved" and renewal and depth < 6 and rng.random() < RENEW_SHARE:
        renew_code, months = renewal
        if renew_code in codes:
            from govcrm.personal.notices import valid_until

            until = valid_until(decided.astimezone(tz).date(), months)
            _apply(rng, plan, renew_code, until - dt.timedelta(days=3 + int(rng.random() * 35)), now, tz, codes,
                   depth + 1)


def _birthday(born: dt.date, age: int) -> dt.date:
    from govcrm.personal.notices import birthday

    return birthday(born, age)


def _default_popularity() -> dict[str, float]:
    """Every scripted service weighted by how often the scripts use it (the noise's distribution)."""
    weights: Counter[str] = Counter()
    for persona, steps in SCRIPTS.items():
        for code, p, *_rest in steps:
            weights[code] += p * PERSONAS[persona][0]
    return dict(weights)


# --- resident ID numbers --------------------------------------------------------------------------
def id_number(rng: random.Random, born: dt.date, local: bool, taken: set[str]) -> str | None:
    """A valid 18-digit resident ID number for this birth date, not in `taken`."""
    from stdnum.cn import ric

    places = [p for p in (LOCAL_PLACES if local else OTHER_PLACES) if _place_valid(p, born)]
    for _ in range(40 if places else 0):
        body = f"{rng.choice(places)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + ric.calc_check_digit(body + "X")  # it reads the first 17 of 18 characters
        if number not in taken:
            taken.add(number)
            return number
    return None


@functools.cache
def _place_valid(place: str, born: dt.date) -> bool:
    """Whether the place code existed in the birth year (python-stdnum's table of county codes)."""
    from stdnum.cn import ric

    body = f"{place}{born:%Y%m%d}000"
    try:
        ric.validate(body + ric.calc_check_digit(body + "X"))
    except ValueError:
        return False
    return True


# --- into the database ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Summary:
    items_added: int
    rules_added: int
    citizens: int
    applications: int


def catalogue_ensure() -> tuple[int, int]:
    """Add the demo's offline service items and proactive rules that are missing (found by code)."""
    from govcrm.organization.models import Unit
    from govcrm.personal.models import ProactiveRule
    from govcrm.services.models import ServiceItem

    units = dict(Unit.objects.values_list("code", "id"))
    have = set(ServiceItem.objects.values_list("code", flat=True))
    new = []
    for code, unit, zh, en, tags, limit, fee, channels, desc_zh, desc_en in catalogue.ITEMS:
        if code in have or unit not in units:
            continue
        new.append(ServiceItem(code=code, name_zh=zh, name_en=en, unit_id=units[unit], tags=tags,
                               time_limit_days=limit, fee=fee[0], fee_en=fee[1], channels=channels, online=False,
                               description_zh=desc_zh, description_en=desc_en))
    ServiceItem.objects.bulk_create(new)
    items = dict(ServiceItem.objects.values_list("code", "id"))
    existing = set(ProactiveRule.objects.values_list("kind", "service_id"))
    rules = []
    for kind, code, renew, months, min_age, lead, grace in catalogue.PROACTIVE_RULES:
        if code not in items or (kind, items[code]) in existing or (renew and renew not in items):
            continue
        rules.append(ProactiveRule(kind=kind, service_id=items[code], renew_with_id=items.get(renew) if renew else None,
                                   valid_months=months, min_age=min_age, lead_working_days=lead, grace_days=grace))
    ProactiveRule.objects.bulk_create(rules)
    return len(new), len(rules)


def _people() -> list[Person]:
    from govcrm.cases.models import Case
    from govcrm.citizens.models import Citizen

    applied = Citizen.objects.filter(applications__isnull=False)
    citizens = (Citizen.objects.filter(merged_into__isnull=True).exclude(pk__in=applied)
                .values_list("id", "kind").order_by("id"))
    categories: dict[int, list[str]] = defaultdict(list)
    for cid, code in Case.objects.filter(citizen__isnull=False).values_list("citizen_id", "category__code"):
        categories[cid].append(code)
    return [Person(cid, kind == "enterprise", tuple(sorted(categories.get(cid, ())))) for cid, kind in citizens]


def applications_ensure(*, seed: int = 1, now: dt.datetime | None = None) -> Summary:
    """Catalogue, rules, and the histories of the demo citizens who have no application yet."""
    from django.utils import timezone

    from govcrm.citizens import crypto, identities
    from govcrm.citizens.models import Citizen, Identity
    from govcrm.services.models import Application, ApplicationEvent, ApplicationNumberSequence, ServiceItem

    now = now or timezone.now()
    if ServiceItem.objects.filter(code__in=catalogue.ONLINE_CODES).count() < len(catalogue.ONLINE_CODES):
        from govcrm.services.loading import load_catalogue, load_processes

        load_processes()  # the online items and their BPMN processes belong to govcrm.services
        load_catalogue()
    items_added, rules_added = catalogue_ensure()
    items = {s.code: s for s in ServiceItem.objects.filter(active=True)}
    people = _people()
    plans = plan_histories(people, codes=items, now=now, seed=seed)
    tz = ZoneInfo(settings.TIME_ZONE)
    with_id = set(Identity.objects.filter(kind=identities.ID_CARD).values_list("citizen_id", flat=True))
    taken_blind = set(Identity.objects.filter(kind=identities.ID_CARD).values_list("blind_index", flat=True))
    taken: set[str] = set()
    new_identities, applications, events_for = [], [], []
    sequence = dict(ApplicationNumberSequence.objects.values_list("day", "last"))
    languages = dict(Citizen.objects.filter(pk__in=[p.citizen_id for p in plans if p.applications])
                     .values_list("id", "language"))
    used_days: dict[str, int] = {}
    for plan in plans:
        rng = random.Random(seed * 7_000_003 + plan.citizen_id)  # noqa: S311 - seeded demo data
        if plan.born and plan.citizen_id not in with_id:
            number = id_number(rng, plan.born, plan.local, taken)
            blind = number and crypto.blind_index(identities.ID_CARD, number)
            if number and blind not in taken_blind:
                taken_blind.add(blind)
                new_identities.append(Identity(
                    citizen_id=plan.citizen_id, kind=identities.ID_CARD, value_stored=crypto.encrypt(number),
                    blind_index=blind, masked=identities.mask(identities.ID_CARD, number)))
        for a in plan.applications:
            item = items[a.code]
            day = a.created.astimezone(tz).strftime("%Y%m%d")
            last = used_days.get(day, sequence.get(day, 0)) + 1
            used_days[day] = last
            app = Application(number=f"SQ{day}{last:05d}", service=item, citizen_id=a.citizen_id, status=a.status,
                              unit_id=item.unit_id, created_at=a.created, submitted_at=a.submitted,
                              decided_at=None if a.status == "withdrawn" else a.decided,
                              language=languages[a.citizen_id],
                              due_at=a.submitted and a.submitted + dt.timedelta(days=item.time_limit_days * 7 // 5),
                              decision_reason="材料不齐全" if a.status == "rejected" else "")
            applications.append(app)
            events_for.append(a)
    with transaction.atomic():
        Identity.objects.bulk_create(new_identities, batch_size=1000)
        Application.objects.bulk_create(applications, batch_size=1000)
        events = []
        for app, a in zip(applications, events_for, strict=True):
            events.extend(_events(app, a))
        ApplicationEvent.objects.bulk_create(events, batch_size=2000)
        for day, last in used_days.items():
            updated = ApplicationNumberSequence.objects.filter(day=day, last__lt=last).update(last=last)
            if not updated and day not in sequence:
                ApplicationNumberSequence.objects.create(day=day, last=last)
    return Summary(items_added, rules_added, sum(1 for p in plans if p.applications), len(applications))


def _events(app, a: Planned) -> list:
    from govcrm.services.models import ApplicationEvent

    steps = [("started", a.created, "", "started")]
    if a.submitted:
        steps.append(("submitted", a.submitted, "started", "submitted"))
        if a.status in ("in_review", "approved", "rejected"):
            at = a.submitted + ((a.decided - a.submitted) / 3 if a.decided else dt.timedelta(hours=2))
            steps.append(("in_review", at, "submitted", "in_review"))
        if a.status in ("approved", "rejected"):
            steps.append((a.status, a.decided, "in_review", a.status))
        elif a.status == "withdrawn":
            steps.append(("withdrawn", a.decided, "submitted", "withdrawn"))
    return [ApplicationEvent(application=app, seq=i, kind=kind, at=at, unit_id=app.unit_id, from_status=frm,
                             to_status=to, public=True, data={"source": "demo"})
            for i, (kind, at, frm, to) in enumerate(steps, 1)]
