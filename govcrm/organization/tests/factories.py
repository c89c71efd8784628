"""Factories for units, areas and staff, and a small city that most tests start from."""

from __future__ import annotations

from dataclasses import dataclass

import factory
from django.contrib.auth import get_user_model

from govcrm.organization.models import Area, Role, StaffProfile, Unit
from govcrm.organization.queries import Actor, actor_for_user


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"unit{n}")
    name_zh = factory.Sequence(lambda n: f"单位{n}")
    name_en = factory.Sequence(lambda n: f"Unit {n}")
    kind = Unit.Kind.DEPARTMENT


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"area{n}")
    name_zh = factory.Sequence(lambda n: f"区域{n}")
    name_en = factory.Sequence(lambda n: f"Area {n}")
    level = Area.Level.DISTRICT
    population = 100_000


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pass-12345")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook signature
        if create:
            obj.save()


def staff(username: str, role: str, unit: Unit, language: str = "zh-hans"):
    user = UserFactory(username=username)
    StaffProfile.objects.update_or_create(user=user, defaults={"role": role, "unit": unit, "language": language})
    return user


@dataclass
class SmallCity:
    centre: Unit
    urban: Unit  # municipal department
    district: Unit
    street1: Unit
    street2: Unit
    water: Unit  # agency
    other_district: Unit
    city_area: Area
    district_area: Area
    street_area: Area
    grid_area: Area
    other_area: Area
    users: dict[str, object]

    def actor(self, username: str) -> Actor:
        return actor_for_user(self.users[username])


def small_city() -> SmallCity:
    centre = UnitFactory(code="centre", name_zh="市12345热线中心", name_en="12345 Hotline Centre",
                         kind=Unit.Kind.CENTRE)
    city_area = AreaFactory(code="city", name_zh="示范市", name_en="Demo City", level=Area.Level.CITY,
                            population=1_000_000)
    district_area = AreaFactory(code="d1", name_zh="东城区", name_en="East District", parent=city_area,
                                level=Area.Level.DISTRICT, population=500_000)
    street_area = AreaFactory(code="d1s1", name_zh="和平街道", name_en="Heping Street", parent=district_area,
                              level=Area.Level.STREET, population=80_000)
    grid_area = AreaFactory(code="d1s1g1", name_zh="和平一网格", name_en="Heping Grid 1", parent=street_area,
                            level=Area.Level.GRID, population=5_000)
    other_area = AreaFactory(code="d2", name_zh="西城区", name_en="West District", parent=city_area,
                             level=Area.Level.DISTRICT, population=400_000)
    urban = UnitFactory(code="urban", name_zh="市城市管理委员会", name_en="Urban Management Commission",
                        parent=centre, kind=Unit.Kind.DEPARTMENT)
    district = UnitFactory(code="gov-d1", name_zh="东城区政府", name_en="East District Government",
                           parent=centre, kind=Unit.Kind.DISTRICT, area=district_area)
    street1 = UnitFactory(code="gov-d1s1", name_zh="和平街道办事处", name_en="Heping Street Office",
                          parent=district, kind=Unit.Kind.STREET, area=street_area)
    street2 = UnitFactory(code="gov-d1s2", name_zh="安定街道办事处", name_en="Anding Street Office",
                          parent=district, kind=Unit.Kind.STREET)
    water = UnitFactory(code="water", name_zh="市自来水公司", name_en="City Water Company", parent=centre,
                        kind=Unit.Kind.AGENCY)
    other_district = UnitFactory(code="gov-d2", name_zh="西城区政府", name_en="West District Government",
                                 parent=centre, kind=Unit.Kind.DISTRICT, area=other_area)
    users = {
        "agent": staff("agent", Role.AGENT, centre),
        "dispatcher": staff("dispatcher", Role.DISPATCHER, centre),
        "supervisor": staff("supervisor", Role.SUPERVISOR, centre),
        "analyst": staff("analyst", Role.ANALYST, centre),
        "admin": staff("admin", Role.ADMIN, centre),
        "urban_handler": staff("urban_handler", Role.HANDLER, urban),
        "district_manager": staff("district_manager", Role.MANAGER, district),
        "street_handler": staff("street_handler", Role.HANDLER, street1),
        "street2_handler": staff("street2_handler", Role.HANDLER, street2),
        "water_handler": staff("water_handler", Role.HANDLER, water),
        "other_handler": staff("other_handler", Role.HANDLER, other_district),
    }
    return SmallCity(centre, urban, district, street1, street2, water, other_district, city_area,
                     district_area, street_area, grid_area, other_area, users)
