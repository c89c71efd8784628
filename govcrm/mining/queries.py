"""The event logs mined, read from the database and scoped by role.

Rules:
- Supervisors, analysts and administrators mine the whole city; a unit manager only the cases
  ever held by a unit of their subtree (and the applications of their subtree's units). Every
  other role is refused.
- The case log: one trace per case (by case number), its events in `seq` order; the activity is
  the move (`register`, `dispatch`, `return`, …); notes, and the events other cases leave on a
  case (`merged_in`, `unmerged_out`, `incident_reply`), are not steps of its process. Each event
  carries the unit holding the case after it (the dispatch's unit; the returning unit on a return).
- The application log (`govcrm.services`): one trace per application, activity `kind`, or
  `step:kind` for a BPMN task's events.
- Filters: registration period (from, to: dates), category (code prefix: `urban` or
  `urban.lighting`), unit (code: cases ever held by its subtree). At most
  `GOVCRM_MINING_MAX_CASES` traces, the newest; `Log.capped` says when more matched.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from govcrm.common.errors import Forbidden, ValidationFailed
from govcrm.organization.models import Role, Unit
from govcrm.organization.queries import Actor

from .analysis import Event, Trace

CITY_ROLES = frozenset({Role.SUPERVISOR, Role.ANALYST, Role.ADMIN})
SKIPPED = frozenset({"note", "merged_in", "unmerged_out", "incident_reply"})
SOURCES = ("cases", "applications")


def may_mine(actor: Actor) -> bool:
    return actor.role in CITY_ROLES or actor.role == Role.MANAGER


@dataclass(frozen=True)
class Filters:
    source: str = "cases"
    start: dt.date | None = None
    end: dt.date | None = None
    category: str = ""
    unit: str = ""


@dataclass(frozen=True)
class Log:
    traces: list[Trace]
    matched: int  # traces matching the filters (counted up to the cap + 1)
    cap: int

    @property
    def capped(self) -> bool:
        return self.matched > self.cap


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={field: message})


def _scope_path(actor: Actor, unit_code: str) -> str | None:
    """The unit path the log is limited to (None: the city)."""
    if not may_mine(actor):
        raise Forbidden(_("Process mining is for supervisors, analysts and unit managers."))
    path = None if actor.role in CITY_ROLES else actor.unit_path
    if unit_code:
        unit = Unit.objects.filter(code=unit_code).only("path").first()
        if unit is None:
            raise _fail("unit", _("Unknown unit: %(code)s") % {"code": unit_code})
        if path and not unit.path.startswith(path):
            raise Forbidden(_("This unit is outside your unit."))
        path = unit.path
    return path


def _bounds(f: Filters) -> tuple[dt.datetime | None, dt.datetime | None]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(f.start, dt.time.min, tzinfo=tz) if f.start else None
    end = dt.datetime.combine(f.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz) if f.end else None
    if start and end and start >= end:
        raise _fail("end", _("The end of the period is before its start."))
    return start, end


def _period(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m")


def event_log(actor: Actor, f: Filters) -> Log:
    if f.source not in SOURCES:
        raise _fail("source", _("Unknown event log: %(value)s") % {"value": f.source})
    path = _scope_path(actor, f.unit)
    start, end = _bounds(f)
    cap = settings.GOVCRM_MINING_MAX_CASES
    if f.source == "applications":
        return _application_log(path, start, end, f.category, cap)
    return _case_log(path, start, end, f.category, cap)


def _case_log(path, start, end, category, cap) -> Log:
    from govcrm.cases.models import Case, CaseEvent

    qs = Case.objects.all()
    if path:
        qs = qs.filter(assignments__unit__path__startswith=path).distinct()
    if start:
        qs = qs.filter(created_at__gte=start)
    if end:
        qs = qs.filter(created_at__lt=end)
    if category:
        qs = qs.filter(category__code__startswith=category)
    rows = list(qs.order_by("-created_at", "-id").values_list("id", "number", "category__code", "created_at")[:cap + 1])
    matched, rows = len(rows), rows[:cap]
    meta = {r[0]: r for r in rows}
    events: dict[int, list[Event]] = {pk: [] for pk in meta}
    holding: dict[int, str] = {}
    ids = list(meta)
    for chunk in range(0, len(ids), 5000):
        for case_id, action, at, data, unit_code in (
            CaseEvent.objects.filter(case_id__in=ids[chunk:chunk + 5000]).exclude(action__in=SKIPPED)
            .order_by("case_id", "seq").values_list("case_id", "action", "at", "data", "actor_unit__code")
        ):
            data = data or {}
            if action in ("dispatch", "subdispatch", "transfer", "arbitrate", "reopen") and data.get("unit"):
                holding[case_id] = data["unit"]
                unit = data["unit"]
            elif action == "return":
                unit = data.get("unit") or unit_code or holding.get(case_id, "")
                holding[case_id] = ""
            elif action in ("merge", "withdraw", "resolve_first_contact") and not holding.get(case_id):
                unit = ""
            else:
                unit = holding.get(case_id, "")
            events[case_id].append(Event(action, at, unit))
    traces = [Trace(meta[pk][1], tuple(events[pk]), meta[pk][2], _period(meta[pk][3])) for pk in ids if events[pk]]
    return Log(traces, matched, cap)


def _application_log(path, start, end, category, cap) -> Log:
    from django.apps import apps

    if not apps.is_installed("govcrm.services"):
        return Log([], 0, cap)
    from govcrm.services.models import Application, ApplicationEvent

    qs = Application.objects.all()
    if path:
        qs = qs.filter(unit__path__startswith=path)
    if start:
        qs = qs.filter(created_at__gte=start)
    if end:
        qs = qs.filter(created_at__lt=end)
    if category:
        qs = qs.filter(service__code__startswith=category)
    rows = list(qs.order_by("-created_at", "-id").values_list("id", "number", "service__code", "created_at",
                                                              "unit__code")[:cap + 1])
    matched, rows = len(rows), rows[:cap]
    meta = {r[0]: r for r in rows}
    events: dict[int, list[Event]] = {pk: [] for pk in meta}
    ids = list(meta)
    for chunk in range(0, len(ids), 5000):
        for app_id, kind, step, at, unit_code in (
            ApplicationEvent.objects.filter(application_id__in=ids[chunk:chunk + 5000])
            .order_by("application_id", "seq").values_list("application_id", "kind", "step", "at", "unit__code")
        ):
            activity = f"{step}:{kind}" if step else kind
            events[app_id].append(Event(activity, at, unit_code or meta[app_id][4] or ""))
    traces = [Trace(meta[pk][1], tuple(events[pk]), meta[pk][2], _period(meta[pk][3])) for pk in ids if events[pk]]
    return Log(traces, matched, cap)
