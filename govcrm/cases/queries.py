"""Reads on cases, always scoped by the actor: centre roles see the city, unit roles their subtree.

A unit sees every case any unit of its subtree was ever assigned (lead or co-handler), so
that a returned or transferred case stays in its history; its work queues show only the
cases it holds now.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from govcrm.common.errors import NotFound
from govcrm.common.reference import cached
from govcrm.organization.models import Role, Unit
from govcrm.organization.queries import Actor, unit_ids_visible_to

from . import search
from .models import Case, CaseAssignment, CaseEvent, Category
from .workflow import MOVES, UNIT_STATES, Move, Status

LIST_RELATED = ("category", "lead_unit", "area")
# What a list of cases shows (console/_case_table.html) and pages by: `.only(*LIST_COLUMNS)` leaves
# out the long text columns (search_text, reply, …) a list never reads.
LIST_COLUMNS = (
    "id", "number", "urgency", "status", "title", "description", "reply_due", "paused_at", "created_at",
    "category__name_zh", "category__name_en", "lead_unit__name_zh", "lead_unit__name_en",
    "area__name_zh", "area__name_en",
)
SEARCH_FEW = 20_000  # measured on 1M demo cases: below this, EXISTS per match beats listing the unit's cases


def case_base_for(actor: Actor, *, few: bool = False) -> QuerySet[Case]:
    """The cases the actor may see.

    `few`: the caller filters down to a few cases by another selective condition (full-text
    search); then each candidate is checked with EXISTS instead of listing all of the unit's
    cases first.
    """
    qs = Case.objects.all()
    if actor.is_centre:
        return qs
    # The subtree's ids as literals, not a subquery on the unit paths: the planner then estimates the
    # unit's assignments from the column's statistics (a district's search 77 → 49 ms, its page of
    # matches 27 → 11 ms at 200,000 cases). Read on every call (not cached): this is who may see what.
    units = unit_ids_visible_to(actor)
    if few:
        return qs.filter(Exists(CaseAssignment.objects.filter(case_id=OuterRef("pk"), unit_id__in=units)))
    return qs.filter(id__in=CaseAssignment.objects.filter(unit_id__in=units).values("case_id"))


@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None
    unit: str | None = None
    category: str | None = None
    area: str | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    overdue: bool | None = None
    q: str | None = None
    channel: str | None = None


def case_list(actor: Actor, f: CaseFilter | None = None) -> QuerySet[Case]:
    return case_search(actor, f)[0]


def case_search(actor: Actor, f: CaseFilter | None = None) -> tuple[QuerySet[Case], int | None]:
    """`case_list`, and how many cases it holds when counting the words' matches already told: a
    hotline centre's search by words alone (PostgreSQL) — then at most `search.RARE + 1`, so that a
    list capped at RARE knows it is "more than" — else None (count the list if needed)."""
    f = f or CaseFilter()
    # A unit's search: when the words match fewer cases than the unit may see in a large city,
    # check those few for visibility (EXISTS); else list the unit's cases first (IN).
    # On PostgreSQL a rare word's matches are looked up first (search.match_condition), and "few"
    # means rare: its planner joins the unit's cases first for anything more, and counting up to
    # SEARCH_FEW cost 46 ms for a word in 8,600 of 200,000 cases. One capped count either way.
    few = rare = False
    matches = None
    postgres = connection.vendor == "postgresql"
    if f.q and (postgres or not actor.is_centre):
        enough = search.RARE if postgres else SEARCH_FEW
        matches = search.match_count(f.q, cap=enough + 1)
        few = not actor.is_centre and matches < enough
        rare = postgres and matches < search.RARE
    words_only = dataclasses.replace(f, q=None) == CaseFilter()
    total = matches if postgres and actor.is_centre and words_only else None
    qs = case_base_for(actor, few=few)
    if f.status:
        qs = qs.filter(status__in=f.status.split(","))
    if f.unit:
        unit = Unit.objects.filter(code=f.unit).first()
        qs = qs.filter(lead_unit__path__startswith=unit.path) if unit else qs.none()
    if f.category:
        cat = Category.objects.filter(code=f.category).first()
        if cat is None:
            qs = qs.none()
        else:
            qs = qs.filter(Q(category=cat) | Q(category__parent=cat) | Q(category__parent__parent=cat))
    if f.area:
        path = _area_path(f.area)
        qs = qs.filter(area__path__startswith=path) if path else qs.none()
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.created_from:
        qs = qs.filter(created_at__gte=f.created_from)
    if f.created_to:
        qs = qs.filter(created_at__lt=f.created_to)
    if f.overdue is not None:
        overdue = Q(status__in=UNIT_STATES, reply_due__lt=timezone.now())
        qs = qs.filter(overdue) if f.overdue else qs.exclude(overdue)
    if f.q:
        cond = search.match_condition(f.q, rare=rare)
        qs = qs.filter(cond) if cond is not None else qs.none()
    # Newest first by id: ids follow registration order, and the primary key needs no extra index.
    return qs.select_related(*LIST_RELATED).order_by("-id"), total


def _area_path(code: str) -> str | None:
    from govcrm.organization.models import Area

    area = Area.objects.filter(code=code).first()
    return area.path if area else None


def case_queue(actor: Actor, queue: str) -> QuerySet[Case]:
    """A work queue of the actor's role. Unit queues list what the unit subtree holds now."""
    now = timezone.now()
    soon = now + dt.timedelta(hours=settings.GOVCRM_DUE_SOON_HOURS)
    # For units, a list of ids rather than a join on the path: the (lead_unit, status, reply_due) index drives.
    qs = Case.objects.all() if actor.is_centre else Case.objects.filter(lead_unit_id__in=unit_ids_visible_to(actor))
    filters = {
        "to_dispatch": Q(status__in=[Status.REGISTERED, Status.RETURNED]),
        "to_accept": Q(status=Status.DISPATCHED),
        "in_progress": Q(status__in=[Status.ACCEPTED, Status.IN_PROGRESS]),
        "due_soon": Q(status__in=UNIT_STATES, reply_due__gte=now, reply_due__lt=soon),
        "overdue": Q(status__in=UNIT_STATES, reply_due__lt=now),
        "to_review": Q(status=Status.REPLIED),
        "to_follow_up": Q(status=Status.FOLLOW_UP),
        "extensions": Q(extension_pending_days__isnull=False, status__in=UNIT_STATES),
    }
    if queue not in filters:
        raise NotFound(f"Unknown queue {queue}")
    order = ["reply_due", "id"] if queue in ("due_soon", "overdue", "in_progress", "to_accept") else ["id"]
    return qs.filter(filters[queue]).select_related(*LIST_RELATED).order_by(*order)


QUEUES_BY_ROLE: dict[str, list[str]] = {
    Role.AGENT: ["to_follow_up", "to_dispatch"],
    Role.DISPATCHER: ["to_dispatch", "to_review", "extensions", "overdue", "to_follow_up"],
    Role.HANDLER: ["to_accept", "in_progress", "due_soon", "overdue"],
    Role.MANAGER: ["to_accept", "in_progress", "due_soon", "overdue"],
    Role.SUPERVISOR: ["overdue", "due_soon", "extensions", "to_review"],
    Role.ANALYST: ["overdue"],
    Role.ADMIN: ["to_dispatch", "to_review", "overdue", "to_follow_up"],
}


def case_get(actor: Actor, number: str) -> Case:
    """One case the actor may see, or NotFound (never revealing that it exists)."""
    case = (
        case_base_for(actor)
        .select_related("category__parent__parent", "lead_unit", "area", "citizen", "merged_into")
        .filter(number=number)
        .first()
    )
    if case is None:
        raise NotFound("No such case.")
    return case


def case_events(case: Case, *, public_only: bool = False) -> QuerySet[CaseEvent]:
    qs = case.events.select_related("actor_unit").order_by("seq")
    return qs.filter(public=True) if public_only else qs


def case_moves_for(actor: Actor, case: Case) -> list[Move]:
    """The moves this actor may make on this case now (for the console's buttons)."""
    out = []
    for move in MOVES.values():
        if case.status not in move.sources or actor.role not in move.roles:
            continue
        if (not actor.is_centre and move.unit_bound and move.name != "note"
                and (case.lead_unit is None or not case.lead_unit.path.startswith(actor.unit_path))):
            continue
        if move.name in ("approve_extension", "reject_extension") and not case.extension_pending_days:
            continue
        if move.name == "request_extension" and case.extension_pending_days:
            continue
        if move.name == "pause" and case.paused_at:
            continue
        if move.name == "resume" and not case.paused_at:
            continue
        # A merged case is taken out of its incident (unmerge), never reopened.
        if move.name == "unmerge" and case.close_reason != "merged":
            continue
        if move.name == "reopen" and case.close_reason == "merged":
            continue
        out.append(move)
    return out


def case_citizen_visible(actor: Actor, case: Case) -> bool:
    """The reporter of a 举报 case is known only to the centre."""
    return not (case.reporter_confidential and not actor.is_centre)


def case_list_for_citizen(citizen_id: int) -> QuerySet[Case]:
    return Case.objects.filter(citizen_id=citizen_id).select_related("category").order_by("-created_at")


def category_tree() -> list[dict]:
    """Active categories as a tree of dicts, names in the current language (cached per language)."""
    return cached(f"category_tree:{get_language()}", _category_tree)


def _category_tree() -> list[dict]:
    nodes = list(Category.objects.filter(active=True).order_by("code"))
    by_parent: dict[int | None, list[Category]] = {}
    for n in nodes:
        by_parent.setdefault(n.parent_id, []).append(n)

    def build(parent_id):
        return [
            {"code": n.code, "name": n.name, "name_zh": n.name_zh, "name_en": n.name_en,
             "children": build(n.pk)}
            for n in by_parent.get(parent_id, [])
        ]

    return build(None)


def active_categories() -> dict[str, tuple[Category, bool]]:
    """Active categories by code, with their parents loaded, and whether each is a leaf (cached)."""
    def load():
        nodes = list(Category.objects.filter(active=True).select_related("parent__parent"))
        parents = {n.parent_id for n in nodes}
        return {n.code: (n, n.pk not in parents) for n in nodes}

    return cached("categories", load)
