"""Writes on cases: registration at intake and every move of the lifecycle.

Rules:
- Every write runs in one transaction; a refused request leaves nothing behind.
- A move locks the case row, checks the state table (`workflow.MOVES`), the actor's role and,
  for unit roles, that the case is held by their unit's subtree; then it changes the case and
  appends one immutable `CaseEvent` with actor, time, from, to, reason and data.
- Only `case_transition` (through `_move`) assigns `Case.status` (after `case_register` creates the case).
- Deadlines are set when a unit receives the case; transfers, returns and arbitration keep the
  reply clock running; a pause shifts the pending deadlines by the working time it lasted;
  an approved extension moves the reply deadline by working days; a reopen starts a new round.
- Merge 并案: a merged case is closed (reason `merged`) and follows its lead case (`merged_into`):
  no dispatch or deadline of its own. When the lead's reply reaches its citizen (the centre's
  review, or a resolution at first contact), every case merged into it gets the same reply and an
  `incident_reply` event, and its own citizen is notified through their own channel, in the same
  transaction. Until then `unmerge` takes a case out again, back to the state it was merged from.
  A case that leads merged cases is not merged itself (unmerge them first).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govcrm.citizens.actions import CitizenInput, citizen_find_or_create
from govcrm.citizens.models import Citizen
from govcrm.common import fastsql
from govcrm.common.errors import Forbidden, NotAllowed, NotFound, ValidationFailed
from govcrm.common.reference import cached
from govcrm.organization.models import Area, Unit
from govcrm.organization.queries import SYSTEM, Actor

from . import deadlines, dispatch, search
from .models import (
    Case,
    CaseAssignment,
    CaseEvent,
    CaseNumberSequence,
    CaseType,
    Category,
    Channel,
    IdempotencyRecord,
    Urgency,
)
from .queries import active_categories
from .workflow import MOVES, CloseReason, Move, PauseReason, ReturnReason, Status, target_of


@dataclass(frozen=True)
class CaseInput:
    """A new case as every channel hands it over, already parsed but not yet validated."""

    category: str
    case_type: str
    description: str
    urgency: str = Urgency.NORMAL
    channel: str = Channel.API
    title: str = ""
    address: str = ""
    area: str | None = None
    lat: float | None = None
    lon: float | None = None
    citizen: CitizenInput | None = None
    language: str = "zh-hans"
    resolve_now_reply: str | None = None  # answered on the spot: close at first contact
    data: dict[str, Any] = field(default_factory=dict)


def _fail(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={field_name: message})


def _validate(data: CaseInput) -> tuple[Category, Area | None]:
    categories = active_categories()
    category, is_leaf = categories.get(data.category, (None, False))
    if category is None:
        raise _fail("category", _("Unknown category: %(code)s") % {"code": data.category})
    if not is_leaf:
        raise _fail("category", _("Choose a most specific category, not %(code)s") % {"code": data.category})
    if data.case_type not in CaseType.values:
        raise _fail("case_type", _("Unknown case type: %(value)s") % {"value": data.case_type})
    if data.urgency not in Urgency.values:
        raise _fail("urgency", _("Unknown urgency: %(value)s") % {"value": data.urgency})
    if data.channel not in Channel.values:
        raise _fail("channel", _("Unknown channel: %(value)s") % {"value": data.channel})
    description = (data.description or "").strip()
    if not description:
        raise _fail("description", _("The description is empty."))
    if len(description) > settings.GOVCRM_MAX_DESCRIPTION:
        raise _fail("description", _("The description is longer than %(n)d characters.")
                    % {"n": settings.GOVCRM_MAX_DESCRIPTION})
    if len(data.title) > 200:
        raise _fail("title", _("The title is longer than %(n)d characters.") % {"n": 200})
    if len(data.address) > 300:
        raise _fail("address", _("The address is longer than %(n)d characters.") % {"n": 300})
    area = None
    if data.area:
        area = cached("areas", lambda: {
            a.code: a for a in Area.objects.select_related("parent__parent__parent")
        }).get(data.area)
        if area is None:
            raise _fail("area", _("Unknown area: %(code)s") % {"code": data.area})
    if (data.lat is None) != (data.lon is None):
        raise _fail("location", _("Give both latitude and longitude."))
    if data.lat is not None and not (-90 <= data.lat <= 90 and -180 <= data.lon <= 180):
        raise _fail("location", _("Latitude or longitude out of range."))
    return category, area


# The rows of a REST Idempotency-Key (scope, key): read by plain statements here and in channels/receipts.py.
IDEMPOTENCY_RECORD = 'FROM cases_idempotencyrecord WHERE scope = %s AND "key" = %s'


def query_code_new() -> str:
    """The six digits a citizen gives with the case number to track it."""
    return f"{secrets.randbelow(10**6):06d}"


def case_number_draw(now: dt.datetime | None = None) -> str:
    """The next case number of the day: YYYYMMDD + a 6-digit daily sequence.

    One statement (an upsert that increments and returns the day's counter), so the counter
    row is locked only for that statement. Callers that wrap a registration in a transaction
    of their own draw the number first, outside it, and pass it to `case_register`; otherwise
    concurrent intakes would queue on the day's row until each whole registration commits.
    A registration that fails after the draw leaves a gap in the day's numbers (harmless).
    """
    day = timezone.localtime(now or timezone.now()).strftime("%Y%m%d")
    table = connection.ops.quote_name(CaseNumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 - the table name is ours
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [day],
        )
        last = cursor.fetchone()[0]
    return f"{day}{last:06d}"


def _append_event(case: Case, *, actor: Actor, action: str, at: dt.datetime, from_status: str,
                  to_status: str, reason_code: str = "", reason: str = "", data: dict | None = None,
                  public: bool = False, last: tuple[int, dt.datetime] | tuple[()] | None = None) -> CaseEvent:
    """Append the next event; `last` is (seq, at) of the case's latest event when the caller knows it
    (`()`: there is none yet)."""
    if last is None and case.version > 1:
        last = case.events.order_by("-seq").values_list("seq", "at").first()
    seq = (last[0] + 1) if last else 1
    if last and at < last[1]:
        at = last[1]  # event times never go backwards, even if clocks of two web nodes disagree
    return fastsql.insert(CaseEvent(
        case=case, seq=seq, action=action, actor_id=actor.user_id, actor_name=actor.username,
        actor_role=actor.role, actor_unit_id=actor.unit_id, at=at, from_status=from_status,
        to_status=to_status, reason_code=reason_code, reason=reason, data=data or {}, public=public,
    ))


def _notify(case: Case, event: CaseEvent) -> None:
    """Queue the citizen's notification and the departments' webhooks in this same transaction
    (see notifications.actions, integration.actions)."""
    from govcrm.integration.actions import webhooks_for_case_event
    from govcrm.notifications.actions import notification_for_event

    notification_for_event(case=case, event=event)
    webhooks_for_case_event(case=case, event=event)


def case_input_check(data: CaseInput) -> None:
    """Refuse a new case that `case_register` would refuse for its content (ValidationFailed),
    without writing anything: an intake acknowledged before registration is checked with this."""
    _validate(data)


def case_register(*, actor: Actor, data: CaseInput, now: dt.datetime | None = None,
                  number: str | None = None, citizen: Citizen | None = None,
                  query_code: str | None = None) -> Case:
    """Create a case from any channel, then dispatch it by rule or close it at first contact.

    `number`: drawn beforehand with `case_number_draw` by a caller that holds a transaction.
    `citizen`: the record the caller has already found or made in its transaction (then
    `data.citizen` is not looked up again).
    `query_code`: given with the number to a citizen before registration (an intake receipt).
    """
    category, area = _validate(data)
    now = now or timezone.now()
    terms = search.search_text(data.title, data.description, data.address)  # CPU work outside the lock
    number = number or case_number_draw(now)
    # No savepoint of its own: every caller lets a failure here fail its whole transaction.
    match = None if data.resolve_now_reply else dispatch.rule_for(category, area)
    with transaction.atomic(savepoint=False):
        if citizen is None and data.citizen:
            citizen = citizen_find_or_create(data=data.citizen)
        case = Case(
            number=number,
            query_code=query_code or query_code_new(),
            case_type=data.case_type,
            urgency=data.urgency,
            category=category,
            status=Status.REGISTERED,
            channel=data.channel,
            title=data.title.strip(),
            description=data.description.strip(),
            address=data.address.strip(),
            area=area,
            lat=data.lat,
            lon=data.lon,
            citizen=citizen,
            language=data.language,
            registered_by_id=actor.user_id,
            search_text=terms,
        )
        if match:
            # Dispatched by rule as it is registered: the row is inserted once with its unit and
            # deadlines (an UPDATE right after the INSERT would write every index of the table,
            # the full-text one included, a second time). Same fields as the dispatch move.
            _dispatch_fields(case, match.unit, now, new_round=True)
            case.status = target_of(MOVES["dispatch"], Status.REGISTERED)
            case.version += 1
        fastsql.insert(case)  # as case.save(force_insert=True), without the query compiler
        event = _append_event(case, actor=actor, action="register", at=now, from_status="",
                              to_status=Status.REGISTERED, data={"channel": data.channel, **data.data},
                              public=True, last=())  # the first event
        _notify(case, event)
        # The new case is not visible to anyone else before commit: its first move is made on
        # this object, without locking and reading it again.
        last = (event.seq, event.at)
        case.registered_events = [event]  # its whole history so far, for an answer without reading it back
        if data.resolve_now_reply:
            return _move(actor=actor, case=case, action="resolve_first_contact",
                         data={"reply": data.resolve_now_reply}, now=now, last=last)
        if match:
            _create_assignments(case, match.unit, match.co_units, now)
            dispatched = _append_event(
                case, actor=SYSTEM, action="dispatch", at=now, from_status=Status.REGISTERED, to_status=case.status,
                data={"unit": match.unit.code, "co_units": [u.code for u in match.co_units], "rule": match.rule_id},
                last=last,
            )
            _notify(case, dispatched)
            case.registered_events.append(dispatched)
        _suggest_later(case)
    return case


_FEEDBACK_MOVES = frozenset({"dispatch", "transfer", "reclassify"})


def _dispatch_feedback(case: Case, event: CaseEvent) -> None:
    """A person's dispatch decision is the dispatch classifier's training signal (same transaction)."""
    from govcrm.intelligence.actions import feedback_record

    feedback_record(case=case, event=event)


def _suggest_later(case: Case) -> None:
    """Ask the dispatch classifier for a suggestion once the case is committed (if one is trained)."""
    from govcrm.intelligence.tasks import suggest_enqueue

    suggest_enqueue(case.pk)


def case_register_idempotent(*, actor: Actor, data: CaseInput, key: str, scope: str,
                             payload: bytes) -> tuple[Case, bool]:
    """Register once per (scope, key). Returns the case and whether it was created now.

    A retry with the same key and the same body returns the first case; the same key with a
    different body is refused, so that a client bug cannot silently drop a request.
    """
    digest = hashlib.sha256(payload).hexdigest()
    if len(key) > 200:
        raise _fail("Idempotency-Key", _("The Idempotency-Key is longer than 200 characters."))

    def existing() -> Case | None:
        # Only the two columns first: most keys are new, and the case is loaded only for a retry.
        record = fastsql.row(f"SELECT request_hash, case_id {IDEMPOTENCY_RECORD}", [scope, key])
        if record is None:
            return None
        if record[0] != digest:
            raise NotAllowed(_("This Idempotency-Key was already used for a different request."),
                             code="idempotency_conflict")
        return Case.objects.get(pk=record[1])

    found = existing()
    if found:
        return found, False
    number = case_number_draw()  # before the transaction: see case_number_draw
    try:
        with transaction.atomic():
            case = case_register(actor=actor, data=data, number=number)
            fastsql.insert(IdempotencyRecord(key=key, scope=scope, request_hash=digest, case=case))
    except IntegrityError:
        # A concurrent retry won the race; its case is the one.
        found = existing()
        if found is None:
            raise
        return found, False
    return case, True


def _unit_by_code(code: Any, field_name: str = "unit") -> Unit:
    units = cached("units", lambda: {u.code: u for u in Unit.objects.filter(active=True)})
    unit = units.get(code) if isinstance(code, str) else None
    if unit is None:
        raise _fail(field_name, _("Unknown unit: %(code)s") % {"code": code})
    return unit


def _assign(case: Case, lead: Unit, co_units: list[Unit], now: dt.datetime, *, keep_active: bool = False) -> None:
    if not keep_active and case.dispatch_count:  # never dispatched: no assignment to end
        case.assignments.filter(active=True).update(active=False)
    _create_assignments(case, lead, co_units, now)
    case.lead_unit = lead


def _create_assignments(case: Case, lead: Unit, co_units: list[Unit], now: dt.datetime) -> None:
    if not co_units:  # the usual case: one row, one plain statement
        fastsql.insert(CaseAssignment(case=case, unit=lead, role=CaseAssignment.Role.LEAD, created_at=now))
        return
    CaseAssignment.objects.bulk_create(
        [CaseAssignment(case=case, unit=lead, role=CaseAssignment.Role.LEAD, created_at=now)]
        + [CaseAssignment(case=case, unit=u, role=CaseAssignment.Role.CO, created_at=now) for u in co_units
           if u.pk != lead.pk]
    )


def _dispatch_fields(case: Case, unit: Unit, now: dt.datetime, *, new_round: bool) -> None:
    """What a dispatch sets on the case row besides its status (see _h_dispatch)."""
    case.lead_unit = unit
    case.dispatch_count += 1
    _start_clock(case, now, new_round=new_round)


def _start_clock(case: Case, now: dt.datetime, *, new_round: bool) -> None:
    cal = deadlines.calendar_from_db()
    limits = deadlines.limits_for(case.category, case.urgency)
    case.accept_due = cal.add_work_hours(now, limits.accept_hours)
    if new_round or case.reply_due is None:
        due = deadlines.due_dates(cal, now, limits)
        case.contact_due, case.reply_due = due.contact, due.reply
        case.dispatched_at = now


def _unpause(case: Case, now: dt.datetime) -> dict:
    """Shift pending deadlines by the working time the clock was paused."""
    cal = deadlines.calendar_from_db()
    minutes = cal.work_minutes_between(case.paused_at, now)
    if case.accepted_at is None and case.accept_due:
        case.accept_due = cal.add_work_minutes(case.accept_due, minutes)
    if case.first_contact_at is None and case.contact_due:
        case.contact_due = cal.add_work_minutes(case.contact_due, minutes)
    if case.reply_due:
        case.reply_due = cal.add_work_minutes(case.reply_due, minutes)
    info = {"paused_minutes": round(minutes), "paused_since": case.paused_at.isoformat()}
    case.paused_at = None
    case.pause_reason = ""
    return info


def _check_allowed(actor: Actor, case: Case, move: Move) -> None:
    if case.status not in move.sources:
        raise NotAllowed(
            _("“%(move)s” is not allowed while the case is %(status)s.")
            % {"move": move.label, "status": Status(case.status).label}
        )
    if not actor.is_system and actor.role not in move.roles:
        raise Forbidden(_("Your role may not make the move “%(move)s”.") % {"move": move.label})
    if actor.is_system or actor.is_centre or not move.unit_bound:
        return
    if move.name == "note":
        visible = case.assignments.filter(unit__path__startswith=actor.unit_path).exists()
        if not visible:
            raise NotFound(_("No such case."))
        return
    if case.lead_unit is None or not case.lead_unit.path.startswith(actor.unit_path):
        raise Forbidden(_("This case is not held by your unit."))


def _require(data: dict, key: str, message: str) -> Any:
    value = data.get(key)
    if value in (None, "", []):
        raise _fail(key, message)
    return value


def _as_bool(data: dict, key: str) -> bool:
    value = data.get(key)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
        return value.lower() in ("true", "1", "yes", "on")
    raise _fail(key, _("Answer yes or no."))


def case_transition(*, actor: Actor, case: Case | str, action: str, data: dict | None = None,
                    reason: str = "", now: dt.datetime | None = None) -> Case:
    """Make one move of the lifecycle, or refuse it and change nothing."""
    if action not in MOVES:
        raise NotFound(_("Unknown action: %(action)s") % {"action": action})
    number = case if isinstance(case, str) else case.number
    with transaction.atomic():
        try:
            case = Case.objects.select_for_update(of=("self",)).select_related(
                "lead_unit", "category__parent__parent").get(
                number=number)
        except Case.DoesNotExist:
            raise NotFound(_("No such case.")) from None
        return _move(actor=actor, case=case, action=action, data=data, reason=reason, now=now)


def _move(*, actor: Actor, case: Case, action: str, data: dict | None = None, reason: str = "",
          now: dt.datetime | None = None, last: tuple[int, dt.datetime] | None = None) -> Case:
    """The move on a case row this transaction holds (locked, or created by it); `last` as in _append_event."""
    move = MOVES[action]
    data = dict(data or {})
    reason = (reason or data.pop("reason", "") or "").strip()
    now = now or timezone.now()
    _check_allowed(actor, case, move)
    reason_code = str(data.pop("reason_code", "") or "")
    if move.needs_reason and not reason and not reason_code:
        raise _fail("reason", _("Give a reason for this move."))
    from_status = case.status
    to_status = target_of(move, from_status)
    event_data: dict[str, Any] = {}
    if case.paused_at and move.target is not None and move.name not in ("note",):
        event_data["resumed"] = _unpause(case, now)
    handler = _HANDLERS.get(move.name)
    extra_events: list[tuple[Case, dict]] = []
    if handler:
        result = handler(actor=actor, case=case, data=data, now=now, reason_code=reason_code,
                         event_data=event_data)
        if isinstance(result, tuple):  # (target override, extra events on other cases)
            to_status = result[0] or to_status
            extra_events = result[1]
        elif isinstance(result, str):
            to_status = result
    case.status = to_status
    case.version += 1
    case.save()
    event = _append_event(case, actor=actor, action=move.name, at=now, from_status=from_status,
                          to_status=to_status, reason_code=reason_code, reason=reason, data=event_data,
                          public=move.public, last=last)
    _notify(case, event)
    if move.name in _REPLY_REACHES_CITIZEN:
        _followers_reply(case, actor=actor, now=now)
    if move.name in _FEEDBACK_MOVES and not actor.is_system:
        _dispatch_feedback(case, event)
    for other, ev in extra_events:
        _append_event(other, actor=actor, at=now, from_status=other.status, to_status=other.status, **ev)
    return case


# The moves after which the citizen reads the reply (notifications.actions sends it on these too).
_REPLY_REACHES_CITIZEN = frozenset({"review", "resolve_first_contact"})


def _followers_reply(lead: Case, *, actor: Actor, now: dt.datetime) -> None:
    """The lead's reply, now approved, reaches the reporter of every case merged into it (same transaction)."""
    followers = list(Case.objects.select_for_update(of=("self",)).select_related("citizen", "lead_unit")
                     .filter(merged_into=lead).order_by("id"))
    for follower in followers:
        follower.reply = lead.reply
        follower.replied_at = now
        follower.version += 1
        follower.save(update_fields=["reply", "replied_at", "version", "updated_at"])
        event = _append_event(follower, actor=actor, action="incident_reply", at=now, from_status=follower.status,
                              to_status=follower.status, data={"lead": lead.number, "reply": lead.reply},
                              public=True)
        _notify(follower, event)


# --- per-move handlers: validate their data, change fields of the locked case ----------------------


def _h_dispatch(*, actor, case, data, now, event_data, **_kw):
    unit = _unit_by_code(_require(data, "unit", _("Choose a unit.")))
    co = [_unit_by_code(c, "co_units") for c in data.get("co_units") or []]
    new_round = case.status == Status.REGISTERED or case.closed_at is not None
    _assign(case, unit, co, now)
    _dispatch_fields(case, unit, now, new_round=new_round)
    event_data.update({"unit": unit.code, "co_units": [u.code for u in co]})
    if "rule" in data:
        event_data["rule"] = data["rule"]
    if "classifier" in data:  # dispatched by the dispatch classifier: its version and confidence
        event_data["classifier"] = data["classifier"]


def _h_subdispatch(*, actor, case, data, now, event_data, **_kw):
    unit = _unit_by_code(_require(data, "unit", _("Choose a unit.")))
    if unit.pk == case.lead_unit_id or not unit.path.startswith(case.lead_unit.path):
        raise _fail("unit", _("Dispatch down only to a unit under %(unit)s.") % {"unit": case.lead_unit})
    co = [_unit_by_code(c, "co_units") for c in data.get("co_units") or []]
    event_data.update({"unit": unit.code, "from_unit": case.lead_unit.code, "co_units": [u.code for u in co]})
    _assign(case, unit, co, now)
    case.accepted_at = None
    case.dispatch_count += 1
    _start_clock(case, now, new_round=False)


def _h_accept(*, case, now, **_kw):
    case.accepted_at = now


def _h_return(*, case, now, reason_code, event_data, **_kw):
    if reason_code not in ReturnReason.values:
        raise _fail("reason_code", _("Choose a reason for the return."))
    event_data["unit"] = case.lead_unit.code
    case.assignments.filter(active=True).update(active=False)
    case.return_count += 1
    case.accepted_at = None


def _h_arbitrate(*, case, now, event_data, **_kw):
    last = case.events.filter(action="return").order_by("-seq").first()
    unit = _unit_by_code(last.data.get("unit") if last else None)
    _assign(case, unit, [], now)
    _start_clock(case, now, new_round=False)
    event_data["unit"] = unit.code


def _h_transfer(*, case, data, now, event_data, **_kw):
    unit = _unit_by_code(_require(data, "unit", _("Choose a unit.")))
    if unit.pk == case.lead_unit_id:
        raise _fail("unit", _("The case is already with this unit."))
    co = [_unit_by_code(c, "co_units") for c in data.get("co_units") or []]
    event_data.update({"unit": unit.code, "from_unit": case.lead_unit.code if case.lead_unit else None})
    _assign(case, unit, co, now)
    case.accepted_at = None
    case.dispatch_count += 1
    _start_clock(case, now, new_round=False)
    return Status.DISPATCHED


def _h_contact(*, case, data, now, event_data, **_kw):
    if case.first_contact_at is None:
        case.first_contact_at = now
        event_data["first"] = True
    if data.get("method"):
        event_data["method"] = str(data["method"])[:32]


def _h_reply(*, case, data, now, event_data, **_kw):
    text = str(_require(data, "reply", _("Write the reply to the citizen."))).strip()
    if len(text) > settings.GOVCRM_MAX_DESCRIPTION:
        raise _fail("reply", _("The reply is too long."))
    case.reply = text
    case.replied_at = now
    if case.first_contact_at is None:
        case.first_contact_at = now
    event_data["reply"] = text


def _h_resolve_first_contact(*, case, data, now, event_data, **_kw):
    _h_reply(case=case, data=data, now=now, event_data=event_data)
    case.closed_at = now
    case.close_reason = CloseReason.FIRST_CONTACT


def _h_send_back(*, case, **_kw):
    case.replied_at = None


def _h_follow_up(*, case, data, now, event_data, **_kw):
    case.resolved = _as_bool(data, "resolved")
    case.satisfied = _as_bool(data, "satisfied")
    rating = data.get("rating")
    if rating not in (None, ""):
        try:
            rating = int(rating)
        except (TypeError, ValueError):
            rating = 0
        if not 1 <= rating <= 5:
            raise _fail("rating", _("The rating is a whole number from 1 to 5."))
        case.rating = rating
    case.closed_at = now
    case.close_reason = CloseReason.FOLLOWED_UP
    event_data.update({"resolved": case.resolved, "satisfied": case.satisfied, "rating": case.rating})


def _h_reopen(*, case, data, now, event_data, **_kw):
    if case.close_reason in (CloseReason.MERGED, CloseReason.WITHDRAWN):
        raise NotAllowed(_("A merged or withdrawn case is not reopened; open a new case instead."))
    unit = _unit_by_code(data["unit"]) if data.get("unit") else case.lead_unit
    if unit is None:
        raise _fail("unit", _("Choose a unit."))
    event_data.update({"unit": unit.code, "previous": {"resolved": case.resolved, "satisfied": case.satisfied}})
    case.reopen_count += 1
    case.closed_at = None
    case.close_reason = ""
    case.replied_at = case.accepted_at = None
    case.reply = ""
    case.resolved = case.satisfied = case.rating = None
    _assign(case, unit, [], now)
    case.dispatch_count += 1
    _start_clock(case, now, new_round=True)


def _h_request_extension(*, case, data, event_data, **_kw):
    if case.extension_pending_days:
        raise NotAllowed(_("An extension request is already waiting for a decision."))
    try:
        days = int(_require(data, "days", _("How many working days?")))
    except (TypeError, ValueError):
        raise _fail("days", _("How many working days?")) from None
    if not 1 <= days <= 60:
        raise _fail("days", _("An extension is 1 to 60 working days."))
    case.extension_pending_days = days
    event_data["days"] = days


def _h_decide_extension(approve: bool):
    def handler(*, case, now, event_data, **_kw):
        if not case.extension_pending_days:
            raise NotAllowed(_("No extension request is waiting."))
        days = case.extension_pending_days
        event_data["days"] = days
        if approve:
            cal = deadlines.calendar_from_db()
            event_data["old_reply_due"] = case.reply_due.isoformat()
            case.reply_due = cal.add_work_days(case.reply_due, days)
            event_data["new_reply_due"] = case.reply_due.isoformat()
        case.extension_pending_days = None

    return handler


def _h_pause(*, case, now, reason_code, event_data, **_kw):
    if case.paused_at:
        raise NotAllowed(_("The clock is already paused."))
    if reason_code not in PauseReason.values:
        raise _fail("reason_code", _("Choose an audited reason to pause the clock."))
    case.paused_at = now
    case.pause_reason = reason_code


def _h_resume(*, case, now, event_data, **_kw):
    if not case.paused_at:
        raise NotAllowed(_("The clock is not paused."))
    event_data.update(_unpause(case, now))


def _h_supervise(*, case, event_data, **_kw):
    case.supervision_level += 1
    event_data["level"] = case.supervision_level


def _h_merge(*, actor, case, data, now, event_data, **_kw):
    target_number = _require(data, "into", _("Name the case to merge into."))
    if target_number == case.number:
        raise _fail("into", _("A case cannot be merged into itself."))
    target = Case.objects.select_for_update().filter(number=target_number).first()
    if target is None or target.status == Status.CLOSED:
        raise _fail("into", _("The case to merge into must exist and be open."))
    if target.status == Status.FOLLOW_UP:
        raise _fail("into", _("The reply of case %(number)s has already been given; register this case on its own.")
                    % {"number": target.number})
    if Case.objects.filter(merged_into=case).exists():
        raise NotAllowed(_("Other cases are merged into this one: take them out first, or merge them into the "
                           "new lead case one by one."))
    case.merged_into = target
    case.closed_at = now
    case.close_reason = CloseReason.MERGED
    event_data["into"] = target.number
    if isinstance(data.get("similarity"), dict):  # the proposal the dispatcher followed (govcrm/incidents)
        event_data["similarity"] = data["similarity"]
    target.version += 1
    target.save(update_fields=["version", "updated_at"])
    return None, [(target, {"action": "merged_in", "data": {"from": case.number}, "public": False})]


def _h_unmerge(*, case, now, event_data, **_kw):
    if case.close_reason != CloseReason.MERGED or case.merged_into_id is None:
        raise NotAllowed(_("Only a merged case can be taken out of its incident."))
    lead = Case.objects.select_for_update().get(pk=case.merged_into_id)
    if lead.status in (Status.FOLLOW_UP, Status.CLOSED):
        raise NotAllowed(_("The reply to case %(number)s has been given; its merged cases stay with it.")
                         % {"number": lead.number})
    merge = case.events.filter(action="merge").order_by("-seq").first()
    back = merge.from_status if merge and merge.from_status else Status.REGISTERED
    case.merged_into = None
    case.closed_at = None
    case.close_reason = ""
    event_data.update({"from": lead.number})
    lead.version += 1
    lead.save(update_fields=["version", "updated_at"])
    return back, [(lead, {"action": "unmerged_out", "data": {"case": case.number}, "public": False})]


def _h_withdraw(*, case, now, **_kw):
    case.closed_at = now
    case.close_reason = CloseReason.WITHDRAWN


def _h_reclassify(*, case, data, event_data, **_kw):
    changes: dict[str, list] = {}
    if data.get("category") and data["category"] != case.category.code:
        category, is_leaf = active_categories().get(data["category"], (None, False))
        if category is None or not is_leaf:
            raise _fail("category", _("Unknown category: %(code)s") % {"code": data["category"]})
        changes["category"] = [case.category.code, category.code]
        case.category = category
    if data.get("case_type") and data["case_type"] != case.case_type:
        if data["case_type"] not in CaseType.values:
            raise _fail("case_type", _("Unknown case type: %(value)s") % {"value": data["case_type"]})
        changes["case_type"] = [case.case_type, data["case_type"]]
        case.case_type = data["case_type"]
    if data.get("urgency") and data["urgency"] != case.urgency:
        if data["urgency"] not in Urgency.values:
            raise _fail("urgency", _("Unknown urgency: %(value)s") % {"value": data["urgency"]})
        changes["urgency"] = [case.urgency, data["urgency"]]
        case.urgency = data["urgency"]
    if not changes:
        raise _fail("category", _("Nothing to change."))
    event_data["changes"] = changes
    if "classifier" in data:
        event_data["classifier"] = data["classifier"]


def _h_note(*, data, event_data, **_kw):
    """A note keeps its small structured data (an interaction id, a reopen request flag…)."""
    for key, value in list(data.items())[:20]:
        if isinstance(value, str | int | float | bool) or value is None:
            event_data[str(key)[:50]] = value[:500] if isinstance(value, str) else value


_HANDLERS = {
    "dispatch": _h_dispatch,
    "subdispatch": _h_subdispatch,
    "accept": _h_accept,
    "return": _h_return,
    "arbitrate": _h_arbitrate,
    "transfer": _h_transfer,
    "contact": _h_contact,
    "reply": _h_reply,
    "resolve_first_contact": _h_resolve_first_contact,
    "send_back": _h_send_back,
    "follow_up": _h_follow_up,
    "reopen": _h_reopen,
    "request_extension": _h_request_extension,
    "approve_extension": _h_decide_extension(True),
    "reject_extension": _h_decide_extension(False),
    "pause": _h_pause,
    "resume": _h_resume,
    "supervise": _h_supervise,
    "merge": _h_merge,
    "unmerge": _h_unmerge,
    "withdraw": _h_withdraw,
    "reclassify": _h_reclassify,
    "note": _h_note,
}


def case_check_deadlines(*, now: dt.datetime | None = None) -> int:
    """Raise supervision 督办 on cases past their reply deadline that nobody supervised yet.

    Safe to run twice: a case already supervised for this deadline is skipped.
    """
    now = now or timezone.now()
    numbers = list(
        Case.objects.filter(status__in=[Status.DISPATCHED, Status.ACCEPTED, Status.IN_PROGRESS],
                            reply_due__lt=now, supervision_level=0, paused_at__isnull=True)
        .values_list("number", flat=True)[:5000]
    )
    done = 0
    for number in numbers:
        try:
            case_transition(actor=SYSTEM, case=number, action="supervise", now=now,
                            reason=_("Overdue: the reply deadline has passed."), data={"reason_code": "overdue"})
            done += 1
        except (NotAllowed, Forbidden):
            continue  # moved on meanwhile
    return done


def case_citizen_move(*, actor: Actor, from_citizen_id: int, to_citizen_id: int, reason: str = "",
                      data: dict | None = None, now: dt.datetime | None = None) -> list[int]:
    """Move every case of one citizen record to another, when duplicate records are merged
    (govcrm/identity). Each case keeps its status and history and gains a `citizen_merge` event
    naming both records. Runs in the caller's transaction; returns the ids of the moved cases."""
    now = now or timezone.now()
    moved: list[int] = []
    with transaction.atomic(savepoint=False):
        for case in Case.objects.select_for_update().filter(citizen_id=from_citizen_id).order_by("pk"):
            case.citizen_id = to_citizen_id
            case.version += 1
            case.save(update_fields=["citizen", "version", "updated_at"])
            _append_event(case, actor=actor, action="citizen_merge", at=now, from_status=case.status,
                          to_status=case.status, reason=reason,
                          data={**(data or {}), "from_citizen": from_citizen_id, "to_citizen": to_citizen_id})
            moved.append(case.pk)
    return moved
