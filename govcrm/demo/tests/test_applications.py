"""The demo's past applications: drawn deterministically per citizen, consistent with ages, rules and statuses."""

import datetime as dt
import itertools
from collections import Counter

import pytest
from django.utils import timezone
from stdnum.cn import ric

from govcrm.demo import applications as gen
from govcrm.demo import service_catalogue as cat
from govcrm.personal.notices import age_on

CODES = [row[0] for row in cat.ITEMS] + list(cat.ONLINE_CODES)
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
MIN_AGE = {code: age for _step in gen.SCRIPTS.values() for code, _p, _d, _s, age in _step if age}


def people(n=400):
    return [gen.Person(i, enterprise=i % 29 == 0, categories=("civil.elderly.allowance",) if i % 5 == 0 else ())
            for i in range(1, n + 1)]


def test_a_citizens_history_depends_only_on_the_seed_and_the_citizen():
    everyone = gen.plan_histories(people(), codes=CODES, now=NOW, seed=3)
    again = gen.plan_histories(people(), codes=CODES, now=NOW, seed=3)
    alone = gen.plan_histories([people()[41]], codes=CODES, now=NOW, seed=3)
    assert [p.applications for p in everyone] == [p.applications for p in again]
    assert alone[0].applications == everyone[41].applications
    other_seed = gen.plan_histories(people(), codes=CODES, now=NOW, seed=4)
    assert [p.applications for p in other_seed] != [p.applications for p in everyone]


def test_histories_are_plausible():
    plans = gen.plan_histories(people(), codes=CODES, now=NOW, seed=1)
    with_apps = [p for p in plans if p.applications]
    assert 0.3 < len(with_apps) / len(plans) < 0.7  # about half use no service
    statuses = Counter(a.status for p in plans for a in p.applications)
    assert statuses["approved"] > 0.7 * sum(statuses.values())
    assert statuses["rejected"] and statuses["withdrawn"]
    for plan in plans:
        for a in plan.applications:
            assert a.created < NOW
            if a.status in ("started", "submitted", "in_review"):
                assert (NOW - a.created).days < 30, "only recent applications are still open"
                assert a.code not in cat.ONLINE_CODES, "an open online application needs its process state"
            if a.status == "approved":
                assert a.created <= a.submitted <= a.decided <= NOW
            if a.code in MIN_AGE:  # the senior card at 60, the bus card at 65, the allowance at 80
                assert plan.born is not None
                assert age_on(plan.born, a.created.date()) >= MIN_AGE[a.code], (a.code, plan.born, a.created)
    # an enterprise is a business (or uses nothing): no birth registration or senior card for a company
    for plan in plans:
        if plan.citizen_id % 29 == 0:
            assert plan.born is None
            assert {a.code for a in plan.applications} <= {c for c, *_ in gen.SCRIPTS["business"]} | set(CODES)
            assert not {a.code for a in plan.applications} & {"birth-registration", "senior-card"}
    # renewals: some endorsements or inspections follow an approval of the same permit about a year on
    renewed = 0
    for plan in plans:
        by_code = [a for a in plan.applications if a.code in gen.RENEWALS]
        for first, later in itertools.pairwise(by_code):
            if first.status == "approved" and later.code == gen.RENEWALS[first.code][0]:
                assert later.created > first.decided
                renewed += 1
    assert renewed > 0


def test_missing_items_are_skipped():
    plans = gen.plan_histories(people(), codes=["birth-registration"], now=NOW, seed=1)
    assert {a.code for p in plans for a in p.applications} <= {"birth-registration"}


def test_id_numbers_are_valid_and_carry_the_birth_date():
    import random

    rng, taken = random.Random(1), set()
    for born in (dt.date(1936, 2, 29), dt.date(1966, 12, 2), dt.date(2001, 7, 15)):
        for local in (True, False):
            number = gen.id_number(rng, born, local, taken)
            assert ric.validate(number) == number
            assert ric.get_birth_date(number) == born
    assert len(taken) == 6


@pytest.mark.django_db
def test_applications_ensure_writes_consistent_rows_once():
    from govcrm.citizens.models import Citizen, Identity
    from govcrm.organization.models import Unit
    from govcrm.organization.tests.factories import UnitFactory
    from govcrm.personal.models import ProactiveRule
    from govcrm.services.models import Application, ApplicationEvent, ServiceItem

    centre = UnitFactory(code="centre", kind=Unit.Kind.CENTRE)
    for code in {row[1] for row in cat.ITEMS} | {"market", "police", "civil"}:
        UnitFactory(code=code, parent=centre)
    Citizen.objects.bulk_create([Citizen(name=f"市民{i}", kind="enterprise" if i % 29 == 0 else "person")
                                 for i in range(120)])
    summary = gen.applications_ensure(seed=1, now=timezone.now())
    assert summary.items_added == len(cat.ITEMS)
    assert set(ServiceItem.objects.values_list("code", flat=True)) == set(CODES)
    assert ServiceItem.objects.filter(code__in=cat.ONLINE_CODES, online=True).count() == 3  # the services app's
    assert ProactiveRule.objects.count() == len(cat.PROACTIVE_RULES)
    assert summary.applications == Application.objects.count() > 50
    numbers = list(Application.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers) and all(n.startswith("SQ") and len(n) == 15 for n in numbers)
    for app in Application.objects.prefetch_related("events"):
        events = list(app.events.all())
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert events[-1].to_status == app.status
        assert (app.decided_at is not None) == (app.status in ("approved", "rejected"))
    ids = Identity.objects.filter(kind="id_card")
    assert ids.exists()
    for ident in ids:
        assert ric.validate(ident.value) and ident.masked != ident.value
    assert ApplicationEvent.objects.count() >= 2 * Application.objects.count()
    again = gen.applications_ensure(seed=1, now=timezone.now())
    assert (again.items_added, again.rules_added, again.applications) == (0, 0, 0)
