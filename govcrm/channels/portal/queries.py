"""Reads of the citizen portal: the category picker and what a citizen may see of a case.

Rules:
- Only leaf categories are offered, grouped by their first level; the search matches every word
  of the query against the codes and both names of the leaf and its parents.
- A case is found only by its number *and* its query code; the code is compared in constant
  time, and a wrong pair looks exactly like an unknown number.
- The tracking view carries no personal data and no staff names: status, category, the unit's
  name, the public events (`cases.queries.case_events(public_only=True)`) and the reviewed reply.
- The reply is shown once the centre has approved it (follow-up or closed): a reply still under
  review may be sent back to the unit for redo.
- Feedback is given once per round of handling (a reopen starts a new round): on a case in
  follow-up it is the follow-up move; on a case closed at first contact it is a note
  (reason code `citizen_feedback`). A reopen request is a note (reason code `reopen_requested`).
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from govcrm.cases.models import Case, CaseEvent, CaseType
from govcrm.cases.queries import case_events, case_list_for_citizen, category_tree
from govcrm.cases.workflow import CloseReason, Status
from govcrm.channels.models import Receipt
from govcrm.organization.queries import unit_list

FEEDBACK_NOTE = "citizen_feedback"
REOPEN_NOTE = "reopen_requested"


# --- category picker ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryLeaf:
    code: str
    label: str  # the path below the first level, in the active language: "路灯照明 › 路灯不亮"
    haystack: str


@dataclass(frozen=True)
class CategoryGroup:
    label: str  # the first-level category, in the active language
    leaves: list[CategoryLeaf] = field(default_factory=list)


def _leaves(node: dict, trail: list[dict]) -> list[tuple[dict, list[dict]]]:
    if not node["children"]:
        return [(node, trail)]
    return [leaf for child in node["children"] for leaf in _leaves(child, [*trail, node])]


def category_groups(q: str = "") -> list[CategoryGroup]:
    """Leaf categories under their first-level parent, narrowed to those matching every word of `q`."""
    words = (q or "").lower().split()
    groups = []
    for top in category_tree():
        group = CategoryGroup(label=top["name"])
        for leaf, trail in _leaves(top, []):
            below = [*trail[1:], leaf]
            haystack = " ".join(w for n in [*trail, leaf] for w in (n["code"], n["name_zh"], n["name_en"])).lower()
            if all(w in haystack for w in words):
                label = " › ".join(n["name"] for n in below) if below else leaf["name"]
                group.leaves.append(CategoryLeaf(code=leaf["code"], label=label, haystack=haystack))
        if group.leaves:
            groups.append(group)
    return groups


def category_choices(groups: list[CategoryGroup]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The groups as Django's grouped choices (rendered as <optgroup>s)."""
    return [(g.label, [(leaf.code, leaf.label) for leaf in g.leaves]) for g in groups]


# --- finding a case by number and query code ------------------------------------------------------------

_DUMMY_CODE = "\x00" * 6


def case_for_tracking(number: str, code: str) -> Case | None:
    """The case with this number if `code` is its query code, else None (same answer for both failures)."""
    case = (Case.objects.select_related("category__parent__parent", "lead_unit")
            .filter(number=(number or "").strip()[:20]).first())
    expected = case.query_code if case is not None else _DUMMY_CODE
    matches = hmac.compare_digest(expected.encode(), (code or "").strip().encode())
    return case if case is not None and matches else None


def receipt_pending(number: str) -> Receipt | None:
    """A request kept as a receipt and not registered yet (ADR 0023), by its case number — pending,
    or failed and waiting for the operator (`govcrm receipts`): either way received, not lost."""
    return Receipt.objects.filter(number=(number or "").strip()[:20], case__isnull=True).first()


def receipt_for_tracking(number: str, code: str) -> Receipt | None:
    """The pending receipt with this number if `code` is its query code, else None."""
    receipt = receipt_pending(number)
    expected = receipt.query_code if receipt is not None else _DUMMY_CODE
    matches = hmac.compare_digest(expected.encode(), (code or "").strip().encode())
    return receipt if receipt is not None and matches else None


def case_for_session(number: str) -> Case | None:
    """A case whose number and code this browser has already proved (the view checks the session)."""
    return Case.objects.select_related("category__parent__parent", "lead_unit").filter(number=number).first()


def cases_for_session(numbers: list[str]) -> list[Case]:
    """The cases this browser submitted or tracked, newest first."""
    return list(Case.objects.select_related("category").filter(number__in=numbers).order_by("-id"))


def cases_of_citizen(citizen_id: int, limit: int = 100) -> list[Case]:
    """A signed-in citizen's requests, from every channel, newest first."""
    return list(case_list_for_citizen(citizen_id).order_by("-id")[:limit])


# --- what the citizen sees ------------------------------------------------------------------------

# The states as a citizen understands them (the staff's names are about who holds the case).
STATUS_LABELS = {
    Status.REGISTERED: _("Received"),
    Status.DISPATCHED: _("Sent to the responsible unit"),
    Status.ACCEPTED: _("Accepted by the unit"),
    Status.IN_PROGRESS: _("Being handled"),
    Status.RETURNED: _("Being reassigned by the hotline centre"),
    Status.REPLIED: _("Reply under review"),
    Status.FOLLOW_UP: _("Replied: waiting for your feedback"),
    Status.CLOSED: _("Closed"),
}

CLOSE_LABELS = {
    CloseReason.FIRST_CONTACT: _("Answered by the hotline"),
    CloseReason.FOLLOWED_UP: _("Closed after your feedback"),
    CloseReason.WITHDRAWN: _("Withdrawn, not handled further"),
    CloseReason.MERGED: _("Merged with another request on the same matter"),
}

# Public moves, told to the citizen. `%(unit)s` is the unit's name, when the event names one.
EVENT_LABELS = {
    "register": _("Your request was received."),
    "dispatch": _("Sent to %(unit)s."),
    "accept": _("%(unit)s accepted your request."),
    "reply": _("%(unit)s replied."),
    "resolve_first_contact": _("The hotline answered your request."),
    "follow_up": _("Your feedback was recorded; the request is closed."),
    "reopen": _("Reopened and sent to %(unit)s."),
    "merge": _("Merged with another request on the same matter."),
    "incident_reply": _("The reply to the request it is handled with was passed on to you."),
    "unmerge": _("Handled on its own again."),
    "withdraw": _("Withdrawn."),
}
SOME_UNIT = _("the responsible unit")


def status_label(case: Case) -> str:
    return str(STATUS_LABELS.get(case.status, case.get_status_display()))


@dataclass(frozen=True)
class PublicEvent:
    at: dt.datetime
    text: str


@dataclass(frozen=True)
class Feedback:
    """What the citizen may do now about the outcome, and what they already said."""

    can_rate: bool = False
    given: bool = False  # a rating was recorded in this round
    resolved: bool | None = None
    satisfied: bool | None = None
    rating: int | None = None
    can_ask_reopen: bool = False
    reopen_asked_at: dt.datetime | None = None


@dataclass(frozen=True)
class Tracking:
    number: str
    status: str
    status_label: str
    close_label: str
    category: str
    case_type: str
    created_at: dt.datetime
    unit_name: str  # "" when no unit holds it (yet)
    reply: str  # "" until the centre approved a reply
    events: list[PublicEvent]
    feedback: Feedback
    handled_with: str = ""  # merged 并案: the number of the request it is handled together with


def _round(events: list[CaseEvent]) -> list[CaseEvent]:
    """The events of the current round of handling (after the last reopen)."""
    last_reopen = max((i for i, e in enumerate(events) if e.action == "reopen"), default=-1)
    return events[last_reopen + 1:]


def _note(events: list[CaseEvent], reason_code: str) -> CaseEvent | None:
    return next((e for e in reversed(events) if e.action == "note" and e.reason_code == reason_code), None)


def feedback_for(case: Case, events: list[CaseEvent]) -> Feedback:
    """Whether the citizen may rate the outcome or ask for a reopen, from the case and its history."""
    current = _round(events)
    reopen_note = _note(current, REOPEN_NOTE)
    if case.status == Status.FOLLOW_UP:
        return Feedback(can_rate=True)
    if case.status != Status.CLOSED:
        return Feedback()
    if case.close_reason == CloseReason.FOLLOWED_UP:
        answers = {"resolved": case.resolved, "satisfied": case.satisfied, "rating": case.rating}
    elif case.close_reason == CloseReason.FIRST_CONTACT:
        note = _note(current, FEEDBACK_NOTE)
        if note is None:
            return Feedback(can_rate=True)
        # The note's data holds the answers; its reason code alone says that they were given.
        answers = {k: note.data.get(k) for k in ("resolved", "satisfied", "rating")}
    else:
        return Feedback()  # withdrawn or merged: nothing to rate
    return Feedback(
        given=True, **answers,
        can_ask_reopen=answers["resolved"] is False and reopen_note is None,
        reopen_asked_at=reopen_note.at if reopen_note else None,
    )


def _unit_names(events: list[CaseEvent]) -> dict[str, str]:
    codes = {e.data.get("unit") for e in events if isinstance(e.data.get("unit"), str)}
    return {u.code: u.name for u in unit_list().filter(code__in=codes)} if codes else {}


def _event_text(event: CaseEvent, units: dict[str, str]) -> str:
    label = EVENT_LABELS.get(event.action)
    if label is None:
        return ""
    unit = units.get(event.data.get("unit") or "") or (event.actor_unit.name if event.actor_unit else "")
    return str(label) % {"unit": unit or SOME_UNIT}


def tracking_for(case: Case) -> Tracking:
    """What the citizen sees of their case; never personal data, never staff names."""
    events = list(case_events(case))
    public = [e for e in events if e.public]
    units = _unit_names(public)
    reviewed = case.status in (Status.FOLLOW_UP, Status.CLOSED)
    from govcrm.incidents.queries import lead_state

    lead = lead_state(case)  # a merged request shows the state of the one it is handled with
    return Tracking(
        number=case.number,
        status=lead.status if lead else case.status,
        status_label=str(STATUS_LABELS.get(lead.status, lead.status_label)) if lead else status_label(case),
        close_label=str(CLOSE_LABELS.get(case.close_reason, "")) if case.status == Status.CLOSED and not lead else "",
        category=case.category.name,
        case_type=str(CaseType(case.case_type).label) if case.case_type in CaseType.values else case.case_type,
        created_at=case.created_at,
        unit_name=lead.unit_name if lead else (case.lead_unit.name if case.lead_unit else ""),
        reply=lead.reply if lead else (case.reply if reviewed else ""),
        events=[PublicEvent(e.at, text) for e in public if (text := _event_text(e, units))],
        feedback=feedback_for(case, events),
        handled_with=lead.number if lead else "",
    )
