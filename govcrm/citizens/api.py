"""REST endpoints for citizens, masked by the reader's role."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from govcrm.common.api import errors
from govcrm.common.errors import NotFound
from govcrm.organization.queries import actor_for_user

from . import identities
from .actions import citizen_find
from .models import Citizen
from .queries import citizen_view

router = Router(tags=["citizens"])


class CitizenOut(Schema):
    id: int
    kind: str
    name: str
    language: str
    preferred_channel: str
    identities: dict[str, str]
    case_numbers: list[str]


def _out(citizen: Citizen, actor) -> dict:
    from govcrm.cases.queries import case_base_for

    view = citizen_view(citizen, actor)
    numbers = list(case_base_for(actor).filter(citizen=citizen).order_by("-created_at")
                   .values_list("number", flat=True)[:50])
    return {**view.__dict__, "case_numbers": numbers}


@router.get("/citizens/lookup", response={200: CitizenOut, **errors(404, 422)})
def lookup(request: HttpRequest, phone: str):
    """Find a citizen by phone number (the phone-intake pop-up)."""
    actor = actor_for_user(request.user)
    if not actor.is_centre:
        raise NotFound("No such citizen.")
    citizen = citizen_find(kind=identities.PHONE, normalised=identities.normalise(identities.PHONE, phone))
    if citizen is None:
        raise NotFound("No such citizen.")
    return _out(citizen, actor)


@router.get("/citizens/{citizen_id}", response={200: CitizenOut, **errors(404, 422)})
def get_citizen(request: HttpRequest, citizen_id: int):
    from govcrm.cases.queries import case_base_for

    actor = actor_for_user(request.user)
    citizen = Citizen.objects.filter(pk=citizen_id).prefetch_related("identities").first()
    if citizen is None:
        raise NotFound("No such citizen.")
    if not actor.is_centre:
        # A unit sees a citizen only through a case it handles, and never the reporter of a 举报.
        visible = case_base_for(actor).filter(citizen=citizen).exclude(case_type="report").exists()
        if not visible:
            raise NotFound("No such citizen.")
    return _out(citizen, actor)
