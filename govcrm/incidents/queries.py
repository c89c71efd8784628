"""Reads for duplicate incidents (并案): proposals at intake and on a case, and the incident a case is in.

Rules:
- Proposals are for the hotline centre's intake and dispatch roles (agent, dispatcher, supervisor,
  admin); any other role is refused. They are computed on request (HTMX while the agent types, or
  when a case page asks), never inside an intake transaction.
- Candidates: open cases that are not merged into another, registered within the window before
  the report, narrowed in the database to the place (a box around the coordinates, or the same
  street) plus the unplaced cases of the same category; a report without any place yet is
  compared with every recent open case. At most `MAX_CANDIDATES`, newest first;
  `similarity.propose` scores them.
- An incident is a lead case and the cases merged into it (`Case.merged_into`); a merged case's
  tracking shows the lead's state and, once approved, the lead's reply.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from govcrm.cases import search
from govcrm.cases.models import Case
from govcrm.cases.workflow import OPEN_STATES, Status
from govcrm.common.errors import Forbidden
from govcrm.organization.models import Area, Role
from govcrm.organization.queries import Actor

from .similarity import Params, Proposal, Report, propose, street_path

MAX_CANDIDATES = 2000
# The case timeline's words for the events merging leaves (console_tags.EXTRA_ACTION_LABELS uses the same).
TIMELINE_LABELS = {"unmerged_out": gettext_lazy("A merged case was taken out again"),
                   "incident_reply": gettext_lazy("The lead case's reply was passed on")}
PROPOSING_ROLES = frozenset({Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
MERGING_ROLES = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})


def params() -> Params:
    return Params(window_days=float(getattr(settings, "GOVCRM_INCIDENT_WINDOW_DAYS", 7)),
                  radius_m=float(getattr(settings, "GOVCRM_INCIDENT_RADIUS_M", 500)))


def may_propose(actor: Actor) -> bool:
    return actor.role in PROPOSING_ROLES


def may_merge(actor: Actor) -> bool:
    return actor.role in MERGING_ROLES


@dataclass(frozen=True)
class Draft:
    """What the agent has typed so far (or a registered case), for the comparison."""

    description: str
    title: str = ""
    address: str = ""
    category: str | None = None
    area: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Similar:
    case: Case
    proposal: Proposal

    @property
    def percent(self) -> int:
        return round(self.proposal.score * 100)

    @property
    def why(self) -> list[str]:
        """The proposal's reasons as sentences in the active language."""
        out = []
        for r in self.proposal.reasons:
            if r.kind == "words":
                out.append(_("Shared words: %(words)s (text similarity %(sim).2f)")
                           % {"words": ", ".join(r.words), "sim": r.value})
            elif r.kind == "distance":
                out.append(_("%(m)d m away") % {"m": r.value})
            elif r.kind == "same_grid":
                out.append(_("Same community grid"))
            elif r.kind == "same_street":
                out.append(_("Same street"))
            elif r.kind == "age":
                out.append(_("Registered %(h)s hours apart") % {"h": r.value})
            elif r.kind == "category":
                out.append(_("Same category"))
        return out


_COLUMNS = ("id", "number", "title", "description", "status", "category__code", "category__name_zh",
            "category__name_en", "area__path", "area__level", "area__name_zh", "area__name_en", "lat", "lon",
            "created_at", "search_text", "channel", "lead_unit__name_zh", "lead_unit__name_en", "address")


def _report(case: Case) -> Report:
    return Report(key=case.number, words=case.search_text, at=case.created_at,
                  category=case.category.code if case.category_id else None,
                  area_path=case.area.path if case.area_id else None,
                  area_level=case.area.level if case.area_id else None, lat=case.lat, lon=case.lon)


def _candidates(report: Report, p: Params, exclude: set[int]) -> list[Case]:
    since = report.at - dt.timedelta(days=p.window_days)
    qs = (Case.objects.filter(status__in=OPEN_STATES, merged_into__isnull=True, created_at__gte=since,
                              created_at__lte=report.at + dt.timedelta(minutes=1))
          .exclude(pk__in=exclude).select_related("category", "area", "lead_unit"))
    place = Q()
    if report.lat is not None and report.lon is not None:
        dlat = p.radius_m / 111_000
        dlon = p.radius_m / (111_000 * max(0.1, math.cos(math.radians(report.lat))))
        place |= Q(lat__range=(report.lat - dlat, report.lat + dlat), lon__range=(report.lon - dlon, report.lon + dlon))
    street = _street(report)
    if street:
        place |= Q(area__path__startswith=street)
    if report.category:  # reports without a place are compared by text alone: those of the same category
        place |= Q(category__code=report.category, lat__isnull=True, area__isnull=True)
    if report.lat is None and not street:  # the draft has no place yet: any recent open case, newest first
        place = Q()
    return list(qs.filter(place).only(*_COLUMNS).order_by("-created_at")[:MAX_CANDIDATES])


def _street(report: Report) -> str | None:
    return street_path(report.area_path, report.area_level)


def _require(actor: Actor) -> None:
    if not may_propose(actor):
        raise Forbidden(_("Only the hotline centre sees possible duplicates."))


def similar_to_draft(actor: Actor, draft: Draft, *, now: dt.datetime | None = None) -> list[Similar]:
    """Open cases that may report the same incident as what the agent is typing."""
    _require(actor)
    words = search.search_text(draft.title, draft.description, draft.address)
    if not words.strip():
        return []
    area = Area.objects.filter(code=draft.area).only("path", "level").first() if draft.area else None
    report = Report(key="", words=words, at=now or timezone.now(), category=draft.category or None,
                    area_path=area.path if area else None, area_level=area.level if area else None,
                    lat=draft.lat, lon=draft.lon)
    return _score(report, set())


def similar_to_case(actor: Actor, case: Case) -> list[Similar]:
    """Open cases that may report the same incident as this one (not for a merged or closed case)."""
    _require(actor)
    if case.status == Status.CLOSED or case.merged_into_id:
        return []
    exclude = {case.pk, *Case.objects.filter(merged_into=case).values_list("pk", flat=True)}
    return _score(_report(case), exclude)


def _score(report: Report, exclude: set[int]) -> list[Similar]:
    p = params()
    cases = {c.number: c for c in _candidates(report, p, exclude)}
    proposals = propose(report, [_report(c) for c in cases.values()], p)
    return [Similar(cases[x.key], x) for x in proposals]


@dataclass(frozen=True)
class Incident:
    lead: Case
    followers: list[Case]


def incident_for(case: Case) -> Incident | None:
    """The incident this case leads or was merged into; None for a case on its own."""
    lead = case.merged_into if case.merged_into_id and case.close_reason == "merged" else case
    followers = list(Case.objects.filter(merged_into=lead, close_reason="merged")
                     .select_related("category", "area").order_by("created_at", "id"))
    if not followers:
        return None
    return Incident(lead=lead, followers=followers)


@dataclass(frozen=True)
class LeadState:
    """What a reporter of a merged case reads about the lead case handling it."""

    number: str
    status: str
    status_label: str
    unit_name: str
    reply: str  # the approved reply, else ""


def lead_state(case: Case) -> LeadState | None:
    """For a case merged into another: the lead's state (its own state mirrors it); else None."""
    if not case.merged_into_id or case.close_reason != "merged":
        return None
    lead = Case.objects.select_related("lead_unit").get(pk=case.merged_into_id)
    reviewed = lead.status in (Status.FOLLOW_UP, Status.CLOSED) and bool(lead.reply)
    return LeadState(number=lead.number, status=lead.status, status_label=str(Status(lead.status).label),
                     unit_name=lead.lead_unit.name if lead.lead_unit_id else "",
                     reply=lead.reply if reviewed else "")
