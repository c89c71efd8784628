"""REST endpoints for units and areas (reference data)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from .queries import area_list, unit_list

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


@router.get("/units", response=list[UnitOut])
def units(request: HttpRequest):
    return [
        {"code": u.code, "name": u.name, "name_zh": u.name_zh, "name_en": u.name_en, "kind": u.kind,
         "parent": u.parent.code if u.parent else None}
        for u in unit_list()
    ]


@router.get("/areas", response=list[AreaOut])
def areas(request: HttpRequest):
    return [
        {"code": a.code, "name": a.name, "level": a.level, "parent": a.parent.code if a.parent else None,
         "population": a.population}
        for a in area_list()
    ]
