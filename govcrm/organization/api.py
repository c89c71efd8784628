"""REST endpoints for units and areas (reference data), for staff: an account without a staff role gets 403."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from govcrm.common.api import errors

from .queries import actor_for_user, area_list, unit_list

router = Router(tags=["reference"])


class UnitOut(Schema):
    code: str
    name: str
    name_zh: str
    name_en: str
    kind: str
    parent: str | None


class AreaOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None
    population: int


@router.get("/units", response={200: list[UnitOut], **errors()})
def units(request: HttpRequest):
    actor_for_user(request.user)
    return [
        {"code": u.code, "name": u.name, "name_zh": u.name_zh, "name_en": u.name_en, "kind": u.kind,
         "parent": u.parent.code if u.parent else None}
        for u in unit_list()
    ]


@router.get("/areas", response={200: list[AreaOut], **errors()})
def areas(request: HttpRequest):
    actor_for_user(request.user)
    return [
        {"code": a.code, "name": a.name, "level": a.level, "parent": a.parent.code if a.parent else None,
         "population": a.population}
        for a in area_list()
    ]
