"""REST endpoints for cases: create (idempotent), list with filters and search, read, move."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from govcrm.channels.queries import interactions_for_case
from govcrm.channels.receipts import receipt_for_api_key, receipt_get, receipt_take_api, receipts_enabled
from govcrm.citizens.actions import citizen_input_clean
from govcrm.citizens.queries import citizen_view
from govcrm.common.api import errors
from govcrm.common.errors import Forbidden, NotAllowed, NotFound
from govcrm.common.reference import cached
from govcrm.organization.models import Unit
from govcrm.organization.queries import Actor, actor_for_user

from . import actions, queries
from .models import Case, Urgency
from .workflow import CENTRE, UNIT_STATES

router = Router(tags=["cases"])
BARE_NUMBER = re.compile(r"\s*[-+]?[\d.]+(e[-+]?\d+)?\s*", re.I)


class CitizenIn(Schema):
    name: str = Field("", max_length=200)
    kind: str = "person"
    phone: str | None = None
    id_number: str | None = None
    credit_code: str | None = None
    email: str | None = None
    wechat_openid: str | None = None
    language: str = "zh-hans"


class LocationIn(Schema):
    lat: float
    lon: float


class CaseIn(Schema):
    category: str = Field(..., max_length=64, description="Leaf category code")
    case_type: str = Field(..., description="inquiry, help, complaint, report, suggestion, praise")
    description: str = Field(..., description="What the citizen says")
    urgency: str = Urgency.NORMAL
    channel: str = "api"
    title: str = ""
    address: str = ""
    area: str | None = None
    location: LocationIn | None = None
    citizen: CitizenIn | None = None
    language: str = "zh-hans"

    @field_validator("language")
    @classmethod
    def _lang(cls, v: str) -> str:
        if v not in ("zh-hans", "en"):
            raise ValueError("zh-hans or en")
        return v


class NamedRef(Schema):
    code: str
    name: str


class CaseCitizenOut(Schema):
    """The citizen of a case (named apart from citizens.api.CitizenOut: one name, one schema in OpenAPI)."""

    id: int
    kind: str
    name: str
    identities: dict[str, str]


class EventOut(Schema):
    seq: int
    action: str
    at: dt.datetime
    actor: str
    actor_role: str
    actor_unit: str | None
    from_status: str
    to_status: str
    reason_code: str
    reason: str
    data: dict[str, Any]


class HandledWithOut(Schema):
    number: str
    status: str


class CaseOut(Schema):
    number: str
    query_code: str | None
    status: str
    close_reason: str
    case_type: str
    urgency: str
    channel: str
    category: NamedRef
    title: str
    description: str
    address: str
    area: NamedRef | None
    location: LocationIn | None
    lead_unit: NamedRef | None
    created_at: dt.datetime
    accept_due: dt.datetime | None
    contact_due: dt.datetime | None
    reply_due: dt.datetime | None
    overdue: bool
    paused: bool
    extension_pending_days: int | None
    supervision_level: int
    reply: str
    resolved: bool | None
    satisfied: bool | None
    rating: int | None
    merged_into: str | None
    # Merged 并案: the lead case it is handled together with, and that case's state (which it follows).
    handled_with: HandledWithOut | None = None
    citizen: CaseCitizenOut | None


class AttachmentOut(Schema):
    name: str
    content_type: str
    size: int


class InteractionOut(Schema):
    channel: str
    direction: str
    subject: str
    content: str
    created_at: dt.datetime
    attachments: list[AttachmentOut]


class CaseDetailOut(CaseOut):
    events: list[EventOut]
    interactions: list[InteractionOut]
    allowed_actions: list[str]


class CaseListOut(Schema):
    items: list[CaseOut]
    count: int


class ActionIn(Schema):
    reason: str = ""
    reason_code: str = ""
    unit: str | None = None
    co_units: list[str] | None = None
    reply: str | None = None
    resolved: bool | None = None
    satisfied: bool | None = None
    rating: int | None = None
    days: int | None = None
    into: str | None = None
    method: str | None = None
    category: str | None = None
    case_type: str | None = None
    urgency: str | None = None


def _ref(obj) -> dict | None:
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """Times as a read from the database gives them (UTC), also for a case still in memory."""
    return value.astimezone(dt.UTC) if value is not None else None


def unit_code(unit_id: int | None) -> str | None:
    """A unit's code by id, from the per-process reference cache (common/reference.py)."""
    if unit_id is None:
        return None
    code = cached("unit_codes", lambda: dict(Unit.objects.values_list("pk", "code"))).get(unit_id)
    return code or Unit.objects.filter(pk=unit_id).values_list("code", flat=True).first()


def _handled_with(case: Case) -> dict | None:
    from govcrm.incidents.queries import lead_state

    lead = lead_state(case)
    return {"number": lead.number, "status": lead.status} if lead else None


def case_out(case: Case, actor: Actor, *, with_citizen: bool = True) -> dict:
    citizen = None
    if with_citizen and case.citizen_id and queries.case_citizen_visible(actor, case):
        view = citizen_view(case.citizen, actor)
        citizen = {"id": view.id, "kind": view.kind, "name": view.name, "identities": view.identities}
    now = timezone.now()
    return {
        "number": case.number,
        "query_code": case.query_code if actor.is_centre else None,
        "status": case.status,
        "close_reason": case.close_reason,
        "case_type": case.case_type,
        "urgency": case.urgency,
        "channel": case.channel,
        "category": _ref(case.category),
        "title": case.title,
        "description": case.description,
        "address": case.address,
        "area": _ref(case.area),
        "location": {"lat": case.lat, "lon": case.lon} if case.lat is not None else None,
        "lead_unit": _ref(case.lead_unit),
        "created_at": _utc(case.created_at),
        "accept_due": _utc(case.accept_due),
        "contact_due": _utc(case.contact_due),
        "reply_due": _utc(case.reply_due),
        "overdue": bool(case.status in UNIT_STATES and case.reply_due and case.reply_due < now),
        "paused": case.paused_at is not None,
        "extension_pending_days": case.extension_pending_days,
        "supervision_level": case.supervision_level,
        "reply": case.reply,
        "resolved": case.resolved,
        "satisfied": case.satisfied,
        "rating": case.rating,
        "merged_into": case.merged_into.number if case.merged_into_id else None,
        "handled_with": _handled_with(case),
        "citizen": citizen,
    }


def case_detail_out(case: Case, actor: Actor, *, new: bool = False) -> dict:
    """The case with its history. `new`: registered by this request, whose events are on the
    object (`case.registered_events`) and which has no interaction yet: nothing is read back."""
    out = case_out(case, actor)
    events = case.registered_events if new else queries.case_events(case)
    out["events"] = [
        {"seq": e.seq, "action": e.action, "at": _utc(e.at) if new else e.at, "actor": e.actor_name,
         "actor_role": e.actor_role, "actor_unit": unit_code(e.actor_unit_id), "from_status": e.from_status,
         "to_status": e.to_status, "reason_code": e.reason_code, "reason": e.reason, "data": e.data}
        for e in events
    ]
    out["interactions"] = [] if new else [
        {"channel": i.channel, "direction": i.direction, "subject": i.subject, "content": i.content,
         "created_at": i.created_at,
         "attachments": [{"name": a.name, "content_type": a.content_type, "size": a.size} for a in i.attachments.all()]}
        for i in interactions_for_case(case.pk)
    ]
    out["allowed_actions"] = [m.name for m in queries.case_moves_for(actor, case)]
    return out


def _input_from(payload: CaseIn) -> actions.CaseInput:
    citizen = None
    if payload.citizen:
        c = payload.citizen
        citizen = citizen_input_clean(
            name=c.name, kind=c.kind, language=c.language, phone=c.phone, id_number=c.id_number,
            credit_code=c.credit_code, email=c.email, wechat_openid=c.wechat_openid,
        )
    return actions.CaseInput(
        category=payload.category, case_type=payload.case_type, description=payload.description,
        urgency=payload.urgency, channel=payload.channel, title=payload.title, address=payload.address,
        area=payload.area, lat=payload.location.lat if payload.location else None,
        lon=payload.location.lon if payload.location else None, citizen=citizen, language=payload.language,
    )


class ReceiptOut(Schema):
    """A registration accepted for later (`Prefer: respond-async` at peak hours, ADR 0023)."""

    number: str = Field(..., description="The case number the case will have")
    state: str = Field(..., description="pending (being registered), registered, failed")
    received_at: dt.datetime
    case_url: str | None = Field(None, description="The case, once registered")


def _receipt_out(receipt) -> dict:
    registered = receipt.case_id is not None
    return {"number": receipt.number, "state": receipt.state, "received_at": receipt.received_at,
            "case_url": f"/api/v1/cases/{receipt.number}" if registered else None}


def _wants_async(request: HttpRequest) -> bool:
    prefer = request.headers.get("Prefer", "")
    return any(p.strip().split("=")[0].strip().lower() == "respond-async" for p in prefer.split(","))


@router.post("/cases", response={200: CaseDetailOut, 201: CaseDetailOut, 202: ReceiptOut, **errors(409, 422)})
def create_case(request: HttpRequest, payload: CaseIn, response: HttpResponse):
    """Register a case. With an `Idempotency-Key` header a retried POST returns the first case (200).

    Registering is intake: the hotline centre's working roles only, as in the console (403 otherwise).
    With `Prefer: respond-async` (RFC 7240) and peak-hour receipts switched on
    (GOVCRM_INTAKE_RECEIPTS), the request is checked, kept and answered 202 with the case number
    it will have; `Location` names `GET /api/v1/receipts/{number}`, which tells when it is registered.
    """
    actor = actor_for_user(request.user)
    if actor.role not in CENTRE:
        raise Forbidden(_("Only hotline centre staff may register cases."))
    data = _input_from(payload)
    key = request.headers.get("Idempotency-Key")
    if receipts_enabled() and _wants_async(request):
        body = json.dumps(payload.dict(), sort_keys=True, ensure_ascii=False).encode()
        done = receipt_take_api(actor=actor, data=data, key=key, scope=f"user:{request.user.pk}", body=body)
        if not done.registered:
            response["Location"] = f"/api/v1/receipts/{done.number}"
            response["Preference-Applied"] = "respond-async"
            return Status(202, _receipt_out(done.receipt))  # kept or found: the row is at hand
        return Status(200, case_detail_out(queries.case_get(actor, done.number), actor))
    if key:
        body = json.dumps(payload.dict(), sort_keys=True, ensure_ascii=False).encode()
        # First sent with Prefer: respond-async? The same rules as its retries (receipts exist only
        # while GOVCRM_INTAKE_RECEIPTS is on; otherwise no statement is spent on them).
        kept = receipt_for_api_key(f"user:{request.user.pk}", key) if receipts_enabled() else None
        if kept is not None:
            if kept.digest != hashlib.sha256(body).hexdigest():
                raise NotAllowed(_("This Idempotency-Key was already used for a different request."),
                                 code="idempotency_conflict")
            if kept.case_id is None:
                raise NotAllowed(_("This request is still being registered; try again in a few seconds."),
                                 code="idempotency_in_progress")
            return Status(200, case_detail_out(queries.case_get(actor, kept.number), actor))
        case, created = actions.case_register_idempotent(
            actor=actor, data=data, key=key, scope=f"user:{request.user.pk}", payload=body
        )
    else:
        case, created = actions.case_register(actor=actor, data=data), True
    # A case made by this request is complete in memory (its category, area, unit and citizen are
    # the objects it was made with); a retried one is read again with everything the answer shows.
    if created and hasattr(case, "registered_events"):
        return Status(201, case_detail_out(case, actor, new=True))
    case = queries.case_get(actor, case.number) if actor.is_centre and not created else case
    return Status(201 if created else 200, case_detail_out(case, actor))


@router.get("/receipts/{number}", response={200: ReceiptOut, **errors(404)})
def get_receipt(request: HttpRequest, number: str):
    """A registration answered 202: pending, registered (then `case_url`), or failed."""
    actor = actor_for_user(request.user)
    if actor.role not in CENTRE:
        raise Forbidden(_("Only hotline centre staff may register cases."))
    receipt = receipt_get(number)
    if receipt is None or receipt.kind != receipt.Kind.API:
        raise NotFound(_("No receipt with this number."))
    return _receipt_out(receipt)


class CaseFilterIn(Schema):
    status: str | None = None
    unit: str | None = None
    category: str | None = None
    area: str | None = None
    channel: str | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    overdue: bool | None = None
    q: str | None = Field(None, max_length=200)
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=500)

    @field_validator("created_from", "created_to", mode="before")
    @classmethod
    def _iso_only(cls, v):
        # pydantic would read a bare number as Unix time: the schema says an ISO 8601 date-time.
        if isinstance(v, (int, float)) or (isinstance(v, str) and BARE_NUMBER.fullmatch(v)):
            raise ValueError("an ISO 8601 date-time, e.g. 2026-03-01T00:00:00+08:00")
        return v

    @field_validator("created_from", "created_to", mode="after")
    @classmethod
    def _in_utc(cls, v):
        # ISO 8601 allows offsets PostgreSQL refuses (beyond ±15:59, e.g. -22:28): compare in UTC.
        return v.astimezone(dt.UTC) if v is not None and v.tzinfo is not None else v


@router.get("/cases", response={200: CaseListOut, **errors(422)})
def list_cases(request: HttpRequest, filters: Query[CaseFilterIn]):
    actor = actor_for_user(request.user)
    f = queries.CaseFilter(**filters.dict(exclude={"page", "page_size"}))
    qs = queries.case_list(actor, f).select_related("citizen")
    start = (filters.page - 1) * filters.page_size
    items = list(qs[start:start + filters.page_size].prefetch_related("citizen__identities"))
    return {"items": [case_out(c, actor) for c in items], "count": qs.count()}


@router.get("/cases/{number}", response={200: CaseDetailOut, **errors(404)})
def get_case(request: HttpRequest, number: str):
    actor = actor_for_user(request.user)
    return case_detail_out(queries.case_get(actor, number), actor)


@router.post("/cases/{number}/actions/{action}",
             response={200: CaseDetailOut, **errors(404, 409, 422)})
def act_on_case(request: HttpRequest, number: str, action: str, payload: ActionIn | None = None):
    """Make one move of the lifecycle (dispatch, accept, return, reply, review, follow_up, reopen, ...)."""
    actor = actor_for_user(request.user)
    queries.case_get(actor, number)  # 404 for a case the actor may not see
    data = {k: v for k, v in (payload.dict() if payload else {}).items() if v not in (None, "")}
    actions.case_transition(actor=actor, case=number, action=action, data=data)
    return case_detail_out(queries.case_get(actor, number), actor)


class CategoryOut(Schema):
    code: str
    name: str
    name_zh: str
    name_en: str
    children: list[CategoryOut]


@router.get("/categories", response=list[CategoryOut], auth=None, tags=["reference"])
def categories(request: HttpRequest):
    """The category tree: code, name and children, three levels."""
    return queries.category_tree()
