"""The demo city: created once, complete, routed like the dispatcher would, and its staff can sign in."""

import time

import pytest
from django.test import Client

from govcrm.cases import dispatch
from govcrm.cases.models import Category, DeadlinePolicy, DispatchRule
from govcrm.demo import city
from govcrm.demo.world import world_load
from govcrm.organization.models import Area, StaffProfile, Unit

pytestmark = pytest.mark.django_db


def counts():
    return (Area.objects.count(), Unit.objects.count(), StaffProfile.objects.count(), DispatchRule.objects.count(),
            DeadlinePolicy.objects.count())


def test_city_is_created_once_and_edits_survive():
    city.city_ensure()
    first = counts()
    assert first[0] == len(city.PLACES) and first[1] == len(city.UNIT_ROWS)
    rule = DispatchRule.objects.filter(category__code="urban.lighting.out").first()
    rule.unit = Unit.objects.get(code="urban")
    rule.save()
    city.city_ensure()
    assert counts() == first
    rule.refresh_from_db()
    assert rule.unit.code == "urban"


def test_areas_and_units_form_trees_with_populations_and_bilingual_names():
    city.city_ensure()
    for area in Area.objects.filter(code__in=[p.code for p in city.PLACES]):
        assert area.name_zh and area.name_en and area.population > 0
        if area.parent_id:
            assert area.path.startswith(area.parent.path)
    street = Unit.objects.get(code="gov-d1s1")
    assert street.kind == Unit.Kind.STREET and street.area.code == "d1s1" and street.parent.code == "gov-d1"
    assert Unit.objects.get(code="traffic-police").path.startswith(Unit.objects.get(code="police").path)
    assert Unit.objects.filter(kind=Unit.Kind.DEPARTMENT).count() >= 12
    assert set(Unit.objects.filter(kind=Unit.Kind.AGENCY).values_list("code", flat=True)) >= {
        "water", "power", "gas", "heating", "telecom"}


def test_rules_cover_most_leaves_and_route_like_the_dispatcher():
    city.city_ensure()
    world = world_load(now=int(time.time()), days=30)
    leaves = [c for c in Category.objects.filter(level=3) if c.code in city.ROUTES or c.code in city.UNROUTED]
    areas = [None, *Area.objects.filter(code__in=[p.code for p in city.PLACES])]
    for category in leaves:
        routed = any(dispatch.rule_for(category, a) for a in areas)
        assert routed == (category.code in city.ROUTES), category.code
        for area in areas:
            match = dispatch.rule_for(category, area)
            mine = world.route(category.pk, area.pk if area else None)
            if match is None:
                assert mine is None
            else:
                assert mine == (match.rule_id, match.unit.pk, tuple(u.pk for u in match.co_units))
    street_rule = dispatch.rule_for(Category.objects.get(code="urban.lighting.out"), Area.objects.get(code="d2s3g2"))
    assert street_rule.unit.code == "gov-d2s3"


def test_main_accounts_sign_in_and_the_admin_reaches_the_admin_site():
    city.city_ensure()
    rows = city.demo_accounts()
    assert {r[1] for r in rows} >= {"agent", "dispatcher", "supervisor", "analyst", "admin", "handler", "manager"}
    for username, role, _unit in rows:
        assert StaffProfile.objects.get(user__username=username).role == role
        assert Client().login(username=username, password=city.DEMO_PASSWORD), username
    assert StaffProfile.objects.filter(user__username="handler_d2s3", unit__code="gov-d2s3").exists()
    admin = Client()
    admin.login(username="admin", password=city.DEMO_PASSWORD)
    assert admin.get("/admin/").status_code == 200
