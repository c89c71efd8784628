"""Reads behind the Open311 resources, returned as the documents the spec describes (plain dicts).

Rules:
- Services are the active leaf categories; service codes are category codes.
- The GET resources need no api_key, so they publish only what may be public:
  * cases that came in through a public channel (`GOVCRM_OPEN311_PUBLIC_CHANNELS`, default only
    "open311": what Open311 clients posted to be published), never a 举报 (report) case, whose
    reporter is confidential;
  * never the citizen's name, phone or e-mail; free text goes through `redact.redact`;
  * of the case history, only the public events (those shown on the citizen's tracking page).
- Every element of a request is emitted (JSON null / empty XML element when unknown).
- Datetimes are W3C with the zone, to the second (mySociety's server refuses fractions).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from govcrm.cases.models import Case, CaseEvent, CaseType, Category
from govcrm.cases.queries import active_categories
from govcrm.cases.workflow import Status
from govcrm.channels.models import Interaction
from govcrm.channels.receipts import receipt_by_token, receipts_enabled
from govcrm.common import fastsql
from govcrm.common.reference import cached
from govcrm.organization.models import Unit

from . import statuses
from .inputs import RequestQuery
from .models import Open311Client, ServiceQuestion
from .redact import redact

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANNEL = "open311"


def w3c(value: dt.datetime | None) -> str | None:
    """A W3C datetime in the local zone, to the second: 2024-05-03T20:00:00+08:00."""
    if value is None:
        return None
    return timezone.localtime(value).replace(microsecond=0).isoformat()


def key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def client_by_key(api_key: str) -> Open311Client | None:
    """The active client holding this api_key, or None."""
    if not api_key:
        return None
    # On every POST: one plain statement (common/fastsql.py).
    return fastsql.fetch_one(Open311Client, "WHERE key_digest = %s AND active", [key_digest(api_key)])


# --- services ---------------------------------------------------------------------------------------


def _leaves() -> list[Category]:
    nodes = list(Category.objects.filter(active=True).select_related("parent__parent").order_by("code"))
    parents = {n.parent_id for n in nodes}
    return [n for n in nodes if n.pk not in parents]


def service_get(code: str) -> Category | None:
    """The active leaf category with this code (from the cached category table)."""
    category, is_leaf = active_categories().get(code, (None, False))
    return category if is_leaf else None


def _path(category: Category) -> list[Category]:
    out = []
    node: Category | None = category
    while node is not None:
        out.append(node)
        node = node.parent
    return out[::-1]


def _keywords(raw: str) -> str | None:
    words = [w for w in raw.replace("，", ",").replace("、", ",").replace(" ", ",").split(",") if w.strip()]
    return ",".join(w.strip() for w in words) or None


def _service(category: Category, has_questions: bool) -> dict:
    path = _path(category)
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": " / ".join(c.name for c in path),
        "metadata": has_questions,
        "type": "batch" if receipts_enabled() else "realtime",  # batch: POST answers a token (ADR 0023)
        "keywords": _keywords(category.keywords),
        "group": path[0].name if len(path) > 1 else None,
    }


def service_list() -> list[dict]:
    leaves = _leaves()
    with_questions = set(ServiceQuestion.objects.filter(active=True).values_list("category_id", flat=True))
    return [_service(c, c.pk in with_questions) for c in leaves]


def questions_for(category: Category) -> list[ServiceQuestion]:
    """The active questions of a service, in order (reference data, cached like the categories)."""
    def load() -> dict[int, list[ServiceQuestion]]:
        by_category: dict[int, list[ServiceQuestion]] = {}
        for q in ServiceQuestion.objects.filter(active=True).order_by("order", "code"):
            by_category.setdefault(q.category_id, []).append(q)
        return by_category

    return list(cached("open311_questions", load).get(category.pk, []))


def service_definition(category: Category) -> dict:
    attributes = []
    for q in questions_for(category):
        attribute = {
            "variable": q.variable,
            "code": q.code,
            "datatype": q.datatype,
            "required": q.required,
            "datatype_description": q.datatype_description or None,
            "order": q.order,
            "description": q.label,
        }
        if q.datatype in ServiceQuestion.LIST_DATATYPES:
            attribute["values"] = [{"key": k, "name": n} for k, n in q.choices()]
        attributes.append(attribute)
    return {"service_code": category.code, "attributes": attributes}


# --- requests ---------------------------------------------------------------------------------------


def public_channels() -> tuple[str, ...]:
    return tuple(getattr(settings, "GOVCRM_OPEN311_PUBLIC_CHANNELS", (CHANNEL,)))


def public_cases() -> QuerySet[Case]:
    """The cases the public GET resources may show."""
    return (Case.objects.filter(channel__in=public_channels()).exclude(case_type=CaseType.REPORT)
            .select_related("category__parent__parent", "lead_unit", "citizen"))


def _names(case: Case) -> tuple[str, ...]:
    return (case.citizen.name,) if case.citizen_id and case.citizen.name else ()


def _first_open311_data(case_ids: Iterable[int]) -> dict[int, dict]:
    """The data of the contact that created each case through Open311 (media_url, address_id)."""
    out: dict[int, dict] = {}
    rows = (Interaction.objects.filter(case_id__in=list(case_ids), channel=CHANNEL,
                                       direction=Interaction.Direction.INBOUND)
            .order_by("id").values_list("case_id", "data"))
    for case_id, data in rows:
        out.setdefault(case_id, data or {})
    return out


def _request(case: Case, origin: dict) -> dict:
    from govcrm.incidents.queries import lead_state

    names = _names(case)
    closed = case.status == Status.CLOSED
    media = origin.get("media_url") or []
    notes = redact(case.reply, names=names) if case.reply else Status(case.status).label
    lead = lead_state(case)  # merged 并案: open while the case it is handled with is open
    if lead:
        notes = HANDLED_WITH % {"number": lead.number, "state": redact(lead.reply, names=names) or lead.status_label}
    return {
        "service_request_id": case.number,
        "status": statuses.request_status(lead.status if lead else case.status),
        "status_notes": str(notes),
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": (redact(case.description, names=names) or "")[:4000] or None,
        "agency_responsible": case.lead_unit.name if case.lead_unit_id else None,
        "service_notice": None,
        "requested_datetime": w3c(case.created_at),
        "updated_datetime": w3c(case.closed_at if closed and case.closed_at else case.updated_at),
        "expected_datetime": w3c(case.reply_due),
        "address": case.address or None,
        "address_id": origin.get("address_id") or None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lon,
        "media_url": media[0] if media else None,
    }


def _requests(cases: list[Case]) -> list[dict]:
    origins = _first_open311_data(c.pk for c in cases)
    return [_request(c, origins.get(c.pk, {})) for c in cases]


def request_list(query: RequestQuery) -> list[dict]:
    qs = public_cases()
    if query.ids:
        qs = qs.filter(number__in=query.ids)
    else:
        qs = qs.filter(created_at__gte=query.start, created_at__lte=query.end)
        if query.service_codes:
            qs = qs.filter(category__code__in=query.service_codes)
        if set(query.statuses) == {"closed"}:
            qs = qs.filter(status=Status.CLOSED)
        elif set(query.statuses) == {"open"}:
            qs = qs.exclude(status=Status.CLOSED)
    offset = (query.page - 1) * query.page_size
    return _requests(list(qs.order_by("-created_at", "-id")[offset:offset + query.page_size]))


def request_get(number: str) -> dict | None:
    case = public_cases().filter(number=number).first()
    return _requests([case])[0] if case else None


def public_case(number: str) -> Case | None:
    return public_cases().filter(number=number).first()


def token_get(token: str) -> dict | None:
    """The request a POST token stands for."""
    receipt = receipt_by_token(token)
    if receipt is not None and receipt.case_id is None:
        # Received, being registered (or failed, waiting for the operator): no id yet; the client polls again.
        return {"token": token}
    found = (Interaction.objects.filter(channel=CHANNEL, direction=Interaction.Direction.INBOUND, data__token=token,
                                        case__isnull=False)
             .select_related("case").first()) if token else None
    if found is None or not public_cases().filter(pk=found.case_id).exists():
        return None
    return {"service_request_id": found.case.number, "token": token}


# --- servicerequestupdates (mySociety's extension) --------------------------------------------------


HANDLED_WITH = pgettext_lazy("open311 update", "Handled together with case %(number)s, which reports the same "
                                               "problem: %(state)s")

# Context "open311 update": these sentences are published on the report pages of FixMyStreet.
UPDATE_TEXT = {
    "register": pgettext_lazy("open311 update", "Registered by the 12345 hotline as case %(number)s."),
    "dispatch": pgettext_lazy("open311 update", "Sent to %(unit)s."),
    "dispatch_": pgettext_lazy("open311 update", "Sent to the responsible unit."),
    "accept": pgettext_lazy("open311 update", "Accepted by %(unit)s."),
    "accept_": pgettext_lazy("open311 update", "Accepted by the responsible unit."),
    "reply_": pgettext_lazy("open311 update", "The unit replied."),
    "follow_up": pgettext_lazy("open311 update",
                               "The hotline checked back with the person who reported it; the case is closed."),
    "reopen": pgettext_lazy("open311 update", "Reopened: the problem was not resolved."),
    "merge": pgettext_lazy("open311 update", "Merged into case %(into)s, which reports the same problem."),
    "unmerge": pgettext_lazy("open311 update", "Handled on its own again, no longer with another case."),
    "withdraw": pgettext_lazy("open311 update", "Withdrawn."),
}


def _update_description(event: CaseEvent, units: dict[str, Unit]) -> str:
    """A sentence per public move; the reply itself (redacted) for a reply. Reasons stay internal."""
    data = event.data or {}
    action = "reply" if event.action in ("resolve_first_contact", "incident_reply") else event.action
    if action == "reply":
        return redact(data.get("reply") or event.case.reply, names=_names(event.case)) or str(UPDATE_TEXT["reply_"])
    unit = units.get(data.get("unit", "")) if action == "dispatch" else event.actor_unit
    if action in ("dispatch", "accept"):
        return str(UPDATE_TEXT[action] % {"unit": unit.name} if unit else UPDATE_TEXT[f"{action}_"])
    if action in UPDATE_TEXT:
        return str(UPDATE_TEXT[action]) % {"number": event.case.number, "into": data.get("into", "")}
    return str(Status(event.to_status).label)


def update_list(*, start: dt.datetime, end: dt.datetime, page: int, page_size: int) -> list[dict]:
    events = list(
        CaseEvent.objects.filter(public=True, at__gte=start, at__lte=end, case__in=public_cases().values("id"))
        .select_related("case__citizen", "actor_unit").order_by("at", "id")[(page - 1) * page_size:page * page_size]
    )
    codes = {e.data.get("unit") for e in events if e.action == "dispatch" and e.data.get("unit")}
    units = {u.code: u for u in Unit.objects.filter(code__in=codes)} if codes else {}
    return [
        {
            "update_id": f"{e.case.number}-{e.seq}",
            "service_request_id": e.case.number,
            "status": statuses.update_status(e.action, e.to_status, e.data or {}),
            "updated_datetime": w3c(e.at),
            "description": _update_description(e, units),
            "media_url": "",
        }
        for e in events
    ]


# --- discovery ----------------------------------------------------------------------------------------


def changeset() -> str:
    """When the services or their definitions last changed (clients refresh their caches on it)."""
    stamps = [
        Category.objects.aggregate(m=Max("updated_at"))["m"],
        ServiceQuestion.objects.aggregate(m=Max("updated_at"))["m"],
    ]
    latest = max((s for s in stamps if s), default=None)
    return w3c(latest) or "2025-01-01T00:00:00+08:00"


def discovery(endpoint_url: str) -> dict:
    stamp = changeset()
    return {
        "changeset": stamp,
        "contact": _("The 12345 hotline centre: %(mail)s") % {"mail": settings.GOVCRM_MAIL_FROM},
        "key_service": _("API keys for posting are issued by the hotline centre's administrators."),
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": endpoint_url,
            "changeset": stamp,
            "type": "test" if settings.DEBUG else "production",
            "formats": ["text/xml", "application/json"],
        }],
    }

