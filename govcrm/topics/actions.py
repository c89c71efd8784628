"""Writes of hot topics and early warnings.

Rules:
- `topics_detect` clusters the cases registered in the period (see `clustering`), stores one
  `TopicRun` with its topics, then tests every topic, street-level area and category × area for
  a burst (see `burst`) and raises warnings. Proactive tasks themselves are left out, so that a
  task does not feed the warning it answers. Safe to run twice: a warning whose subject (for a
  topic: any of its source cases) already has a warning over an overlapping window is refreshed
  while still new, and left alone once decided. Only the last `KEEP_RUNS` runs are kept.
- Only supervisors and administrators decide a warning (`warning_dismiss`, `warning_convert`);
  a decided warning cannot be decided again. Converting opens a real case with channel
  `proactive` through `cases.actions.case_register` (dispatched by rule, or to the unit the
  supervisor picks), notes the source case numbers on it, and links warning → task.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govcrm.cases.actions import CaseInput, case_register, case_transition
from govcrm.cases.models import Case, Category, Channel
from govcrm.cases.workflow import Status
from govcrm.common.errors import Forbidden, NotAllowed, NotFound, ValidationFailed
from govcrm.organization.models import Area, Role
from govcrm.organization.queries import Actor

from . import burst, clustering
from .models import Topic, TopicCase, TopicRun, Warning

DEFAULT_DAYS = 30
KEEP_RUNS = 20
DECIDERS = frozenset({Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class _Row:
    id: int
    at: dt.datetime
    channel: str
    area_id: int | None
    street_id: int | None
    category_id: int
    group_id: int  # the second-level category
    lat: float | None
    lon: float | None


def _streets() -> dict[int, int]:
    """Area id → id of its street-level ancestor (itself for a street or above)."""
    areas = {a.pk: a for a in Area.objects.only("id", "parent_id", "level")}
    out = {}
    for pk, area in areas.items():
        node = area
        while node.level == Area.Level.GRID and node.parent_id in areas:
            node = areas[node.parent_id]
        out[pk] = node.pk
    return out


def _groups() -> dict[int, int]:
    """Category id → id of its second-level ancestor (itself at level 1 or 2)."""
    cats = {c.pk: c for c in Category.objects.only("id", "parent_id", "level")}
    out = {}
    for pk, cat in cats.items():
        node = cat
        while node.level > 2 and node.parent_id in cats:
            node = cats[node.parent_id]
        out[pk] = node.pk
    return out


def _day(now: dt.datetime, at: dt.datetime) -> int:
    """Days before `now` (0: the last 24 hours)."""
    return int((now - at).total_seconds() // 86400)


def _daily(rows: list[_Row], now: dt.datetime, days: int) -> list[int]:
    counts = [0] * days
    for r in rows:
        d = _day(now, r.at)
        if 0 <= d < days:
            counts[days - 1 - d] += 1
    return counts


def _unclassified_id() -> int | None:
    """The "unclassified" bucket of channel intake is no category for bridging languages."""
    from govcrm.channels.intake import UNCLASSIFIED

    return Category.objects.filter(code=UNCLASSIFIED).values_list("pk", flat=True).first()


def topics_detect(*, now: dt.datetime | None = None, days: int = DEFAULT_DAYS,
                  params: clustering.Params | None = None, rule: burst.Rule | None = None) -> TopicRun:
    """Compute the hot topics of the last `days` days and the warnings of the last window."""
    started = time.monotonic()
    now = now or timezone.now()
    params = params or clustering.Params()
    rule = rule or burst.Rule()
    days = max(days, rule.window_days * (rule.baseline_windows + 1))
    start = now - dt.timedelta(days=days)
    raw = list(
        Case.objects.filter(created_at__gt=start, created_at__lte=now).exclude(channel=Channel.PROACTIVE)
        .values_list("id", "title", "search_text", "created_at", "channel", "area_id", "area__code", "lat", "lon",
                     "category_id")
        .order_by("id")
    )
    streets, groups = _streets(), _groups()
    rows = [_Row(r[0], r[3], r[4], r[5], streets.get(r[5]) if r[5] else None, r[9], groups.get(r[9], r[9]),
                 r[7], r[8]) for r in raw]
    unclassified = _unclassified_id()
    docs = [clustering.Doc(key=r[0], words=r[2], title=clustering.words_of(r[1]) if r[1] else "", at=r[3],
                           area=r[6], lat=r[7], lon=r[8], category=r[9] if r[9] != unclassified else None)
            for r in raw]
    found = clustering.cluster(docs, params)
    located = [(r.lat, r.lon) for r in rows if r.lat is not None]
    bounds = ([min(p[0] for p in located), min(p[1] for p in located), max(p[0] for p in located),
               max(p[1] for p in located)] if located else None)
    with transaction.atomic():
        run = TopicRun.objects.create(period_start=start, period_end=now, case_count=len(rows),
                                      params={**params.as_dict(), "rule": rule.as_dict(), "bounds": bounds})
        topics = []
        for rank, c in enumerate(found, start=1):
            members = [rows[i] for i in c.members]
            topic = _topic_create(run, rank, c, members, rows[c.representative].id, now, days)
            topics.append((topic, members))
        TopicCase.objects.bulk_create([
            TopicCase(topic=topic, case_id=m.id, similarity=s)
            for (topic, members), c in zip(topics, found, strict=True)
            for m, s in zip(members, c.similarity, strict=True)
        ], batch_size=1000)
        _warnings_raise(run, topics, rows, now, rule)
        run.seconds = round(time.monotonic() - started, 3)
        run.save(update_fields=["seconds"])
        for old in TopicRun.objects.order_by("-created_at", "-id")[KEEP_RUNS:]:
            old.delete()
    return run


def _topic_create(run: TopicRun, rank: int, c: clustering.Cluster, members: list[_Row], rep_id: int,
                  now: dt.datetime, days: int) -> Topic:
    areas = Counter(m.area_id for m in members if m.area_id)
    located = [m for m in members if m.lat is not None]
    return Topic.objects.create(
        run=run, rank=rank, terms=c.terms, representative_id=rep_id, size=len(members),
        area_id=areas.most_common(1)[0][0] if areas else None,
        lat=sum(m.lat for m in located) / len(located) if located else None,
        lon=sum(m.lon for m in located) / len(located) if located else None,
        first_seen=min(m.at for m in members), last_seen=max(m.at for m in members),
        daily=_daily(members, now, days), channels=dict(Counter(m.channel for m in members).most_common()),
    )


def _warnings_raise(run: TopicRun, topics: list[tuple[Topic, list[_Row]]], rows: list[_Row],
                    now: dt.datetime, rule: burst.Rule) -> list[Warning]:
    span = rule.window_days * (rule.baseline_windows + 1)
    window_start = now - dt.timedelta(days=rule.window_days)
    series: list[tuple[str, str, dict, list[_Row]]] = []
    for topic, members in topics:
        series.append((Warning.Kind.TOPIC, " ".join(topic.terms)[:200], {"topic": topic, "area_id": topic.area_id},
                       members))
    by_street: dict[int, list[_Row]] = defaultdict(list)
    by_group: dict[tuple[int, int], list[_Row]] = defaultdict(list)
    for r in rows:
        if r.street_id:
            by_street[r.street_id].append(r)
            by_group[(r.group_id, r.street_id)].append(r)
    for street, members in by_street.items():
        series.append((Warning.Kind.AREA, f"area:{street}", {"area_id": street}, members))
    for (group, street), members in by_group.items():
        series.append((Warning.Kind.CATEGORY_AREA, f"category:{group}/area:{street}",
                       {"area_id": street, "category_id": group}, members))
    raised = []
    for kind, subject, links, members in series:
        baseline, observed = burst.window_counts(_daily(members, now, span), rule)
        result = burst.burst_test(baseline, observed, rule)
        if not result.alarm:
            continue
        sources = [m.id for m in members if m.at > window_start]
        warning = _warning_upsert(kind, subject, links, sources, window_start, now, result)
        if warning is not None:
            raised.append(warning)
    return raised


def _warning_upsert(kind: str, subject: str, links: dict, sources: list[int], window_start: dt.datetime,
                    now: dt.datetime, result: burst.Result) -> Warning | None:
    overlapping = Warning.objects.select_for_update().filter(kind=kind, window_end__gt=window_start)
    if kind == Warning.Kind.TOPIC:  # topics are recomputed: the same one is the one sharing cases
        existing = overlapping.filter(source_cases__in=sources).order_by("-id").first()
    else:
        existing = overlapping.filter(subject=subject).order_by("-id").first()
    fields = {"window_start": window_start, "window_end": now, "observed": result.observed,
              "expected": result.expected, "p_value": result.p_value, "subject": subject, **links}
    if existing is None:
        warning = Warning.objects.create(kind=kind, **fields)
    elif existing.status == Warning.Status.NEW:
        warning = existing
        for key, value in fields.items():
            setattr(warning, key, value)
        warning.save()
    else:
        return None
    warning.source_cases.add(*sources)
    return warning


def _decider(actor: Actor) -> None:
    if actor.role not in DECIDERS:
        raise Forbidden(_("Only supervisors may act on warnings."))


def _locked_new(warning_id: int) -> Warning:
    warning = Warning.objects.select_for_update().filter(pk=warning_id).first()
    if warning is None:
        raise NotFound(_("No such warning."))
    if warning.status != Warning.Status.NEW:
        raise NotAllowed(_("This warning has already been decided."))
    return warning


def warning_dismiss(*, actor: Actor, warning_id: int, note: str = "", now: dt.datetime | None = None) -> Warning:
    """Close a warning without a task (a false alarm, or already being handled)."""
    _decider(actor)
    with transaction.atomic():
        warning = _locked_new(warning_id)
        warning.status = Warning.Status.DISMISSED
        warning.decided_by_id = actor.user_id
        warning.decided_at = now or timezone.now()
        warning.decision_note = note.strip()[:2000]
        warning.save()
    return warning


@dataclass(frozen=True)
class TaskInput:
    """The proactive task a supervisor opens from a warning; empty fields take the warning's defaults."""

    category: str = ""
    unit: str = ""
    title: str = ""
    description: str = ""
    urgency: str = "normal"
    language: str = "zh-hans"


def warning_defaults(warning: Warning) -> dict:
    """Category, area, title and description proposed for the task of a warning."""
    sources = list(warning.source_cases.select_related("category", "area").order_by("id"))
    leaves = Counter(c.category.code for c in sources)
    areas = Counter(c.area.code for c in sources if c.area_id)
    numbers = ", ".join(c.number for c in sources[:30])
    subject = warning_subject(warning)
    return {
        "category": leaves.most_common(1)[0][0] if leaves else "",
        "area": warning.area.code if warning.area_id else (areas.most_common(1)[0][0] if areas else None),
        "title": (_("Proactive: %(subject)s") % {"subject": subject})[:200],
        "description": _("%(observed)d cases in %(days)d days about %(subject)s (expected %(expected).1f). "
                         "Source cases: %(numbers)s.") % {
            "observed": warning.observed, "days": (warning.window_end - warning.window_start).days or 1,
            "subject": subject, "expected": warning.expected, "numbers": numbers},
        "numbers": [c.number for c in sources],
    }


def warning_subject(warning: Warning) -> str:
    """The warning's subject in the active language."""
    if warning.kind == Warning.Kind.TOPIC:
        return warning.subject
    parts = []
    if warning.category_id:
        parts.append(warning.category.name)
    if warning.area_id:
        parts.append(warning.area.name)
    return " · ".join(str(p) for p in parts) or warning.subject


def warning_convert(*, actor: Actor, warning_id: int, task: TaskInput, now: dt.datetime | None = None) -> Case:
    """Open a proactive governance task (a case, channel `proactive`) for a warning and link it."""
    _decider(actor)
    now = now or timezone.now()
    with transaction.atomic():
        warning = _locked_new(warning_id)
        defaults = warning_defaults(warning)
        category = task.category or defaults["category"]
        if not category:
            raise ValidationFailed(_("Choose a category."), details={"category": _("Choose a category.")})
        case = case_register(actor=actor, now=now, data=CaseInput(
            category=category, case_type="complaint", urgency=task.urgency or "normal", channel=Channel.PROACTIVE,
            title=task.title.strip() or defaults["title"], description=task.description.strip()
            or defaults["description"], area=defaults["area"], language=task.language,
            lat=warning.topic.lat if warning.topic_id else None, lon=warning.topic.lon if warning.topic_id else None,
            data={"warning": warning.pk},
        ))
        if task.unit:
            if case.status == Status.REGISTERED:
                case = case_transition(actor=actor, case=case, action="dispatch", data={"unit": task.unit}, now=now)
            elif case.lead_unit is None or case.lead_unit.code != task.unit:
                case = case_transition(actor=actor, case=case, action="transfer", data={"unit": task.unit}, now=now,
                                       reason=_("Unit chosen by the supervisor for the proactive task."))
        numbers = defaults["numbers"]
        case = case_transition(
            actor=actor, case=case, action="note", now=now,
            reason=_("Opened from early warning #%(id)d. Source cases: %(numbers)s")
            % {"id": warning.pk, "numbers": ", ".join(numbers)},
            data={"warning": warning.pk, "sources": ", ".join(numbers)[:500]},
        )
        warning.status = Warning.Status.CONVERTED
        warning.task = case
        warning.decided_by_id = actor.user_id
        warning.decided_at = now
        warning.save()
    return case
