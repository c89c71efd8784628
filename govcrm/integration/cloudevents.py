"""The events department systems receive: CloudEvents 1.0 envelopes (structured mode, JSON).

Rules:
- Attributes: `specversion` "1.0"; `id` a UUID derived from the event row (uuid5), the same for
  every subscriber and every retry, so receivers de-duplicate on it; `source`
  `urn:govcrm:<GOVCRM_JURISDICTION>:cases` (or `:applications`); `type` from the tables below;
  `subject` the case (or application) number; `time` the event's time (RFC 3339, UTC);
  `datacontenttype` "application/json"; the extension `sequence`, the event's number within its
  case, zero-padded to 10 digits so that it also sorts as text.
- `data` is thin (ADR 0015): the case's state and codes, never the citizen's identity nor free
  text (description, reply, reasons, notes). A department reads the text through the REST API with
  its unit-scoped token, where role scoping and the audit log apply.
- An action missing from the table still gets a type (`gov.govcrm.case.<action>`); receivers
  ignore types they do not know.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Model

PREFIX = "gov.govcrm."
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
# uuid5 namespace of GovCRM event ids (a fixed random UUID; never change it: ids would change).
ID_NAMESPACE = uuid.UUID("6d3c9a52-4f1e-4b7a-9d0c-2b8e61f0c5a7")

# case move (CaseEvent.action) -> CloudEvents type suffix
CASE_TYPES: dict[str, str] = {
    "register": "case.registered",
    "dispatch": "case.dispatched",
    "subdispatch": "case.subdispatched",
    "accept": "case.accepted",
    "return": "case.returned",
    "arbitrate": "case.return_rejected",
    "transfer": "case.transferred",
    "contact": "case.contacted",
    "reply": "case.replied",
    "review": "case.reply_approved",
    "send_back": "case.sent_back",
    "resolve_first_contact": "case.resolved_at_first_contact",
    "follow_up": "case.closed",
    "reopen": "case.reopened",
    "request_extension": "case.extension_requested",
    "approve_extension": "case.extension_approved",
    "reject_extension": "case.extension_rejected",
    "pause": "case.paused",
    "resume": "case.resumed",
    "supervise": "case.supervised",
    "merge": "case.merged",
    "withdraw": "case.withdrawn",
    "reclassify": "case.reclassified",
    "note": "case.note_added",
    # duplicate incidents 并案 (govcrm/incidents): a case taken out of its incident; the lead's reply
    # reaching a merged case's citizen
    "unmerge": "case.unmerged",
    "incident_reply": "case.incident_replied",
}
# Keys of CaseEvent.data that are codes, numbers or flags (never free text) and go into `data.event.data`.
CASE_EVENT_DATA_KEYS = frozenset({
    "unit", "from_unit", "co_units", "rule", "first", "method", "days", "old_reply_due", "new_reply_due",
    "level", "into", "from", "lead", "resolved", "satisfied", "rating", "changes", "channel",
})
# Keys of ApplicationEvent.data passed on (task names and decisions, not the citizen's form answers).
APPLICATION_EVENT_DATA_KEYS = frozenset({"task", "role", "timer", "decision", "eligible", "rule_reason", "key"})


def case_type(action: str) -> str:
    return PREFIX + CASE_TYPES.get(action, f"case.{action}")


def application_type(kind: str) -> str:
    return f"{PREFIX}application.{kind}"


def event_id(kind: str, pk: int) -> uuid.UUID:
    """The CloudEvents id of an event row: stable, so a re-written outbox row keeps its id."""
    return uuid.uuid5(ID_NAMESPACE, f"{kind}:{pk}")


def rfc3339(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def source(kind: str) -> str:
    return f"urn:govcrm:{settings.GOVCRM_JURISDICTION}:{kind}"


@dataclass(frozen=True)
class Refs:
    """Codes and paths of the reference rows an envelope names, by id (from the reference cache)."""

    units: dict[int, tuple[str, str]]  # id -> (code, path)
    unit_paths: dict[str, str]  # code -> path
    areas: dict[int, str]  # id -> code
    categories: dict[int, tuple[str, tuple[int, ...]]]  # id -> (code, ids of itself and its ancestors)

    def unit_code(self, pk: int | None) -> str | None:
        return self.units[pk][0] if pk in self.units else None


def _envelope(*, kind: str, pk: int, type_: str, subject: str, at: dt.datetime, seq: int,
              data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(event_id(kind, pk)),
        "source": source("cases" if kind == "case-event" else "applications"),
        "type": type_,
        "subject": subject,
        "time": rfc3339(at),
        "datacontenttype": "application/json",
        "sequence": f"{seq:010d}",
        "data": data,
    }


def case_envelope(case: Model, event: Model, refs: Refs) -> dict[str, Any]:
    category = refs.categories.get(case.category_id)
    co_units = event.data.get("co_units") if isinstance(event.data.get("co_units"), list) else None
    data = {
        "case": {
            "number": case.number,
            "status": case.status,
            "close_reason": case.close_reason,
            "case_type": case.case_type,
            "urgency": case.urgency,
            "channel": case.channel,
            "category": category[0] if category else None,
            "area": refs.areas.get(case.area_id),
            "lead_unit": refs.unit_code(case.lead_unit_id),
            "co_units": co_units or [],
            "accept_due": rfc3339(case.accept_due),
            "contact_due": rfc3339(case.contact_due),
            "reply_due": rfc3339(case.reply_due),
            "supervision_level": case.supervision_level,
            "version": case.version,
        },
        "event": {
            "seq": event.seq,
            "action": event.action,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "reason_code": event.reason_code,
            "actor_role": event.actor_role,
            "actor_unit": refs.unit_code(event.actor_unit_id),
            "data": {k: v for k, v in event.data.items() if k in CASE_EVENT_DATA_KEYS},
        },
        "links": {"case": f"/api/v1/cases/{case.number}"},
    }
    return _envelope(kind="case-event", pk=event.pk, type_=case_type(event.action), subject=case.number,
                     at=event.at, seq=event.seq, data=data)


def application_envelope(application: Model, event: Model, refs: Refs, service_code: str) -> dict[str, Any]:
    data = {
        "application": {
            "number": application.number,
            "service": service_code,
            "status": application.status,
            "unit": refs.unit_code(application.unit_id),
            "submitted_at": rfc3339(application.submitted_at),
            "due_at": rfc3339(application.due_at),
            "decided_at": rfc3339(application.decided_at),
        },
        "event": {
            "seq": event.seq,
            "kind": event.kind,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "step": event.step,
            "unit": refs.unit_code(event.unit_id),
            "data": {k: v for k, v in (event.data or {}).items() if k in APPLICATION_EVENT_DATA_KEYS},
        },
    }
    return _envelope(kind="application-event", pk=event.pk, type_=application_type(event.kind),
                     subject=application.number, at=event.at, seq=event.seq, data=data)
