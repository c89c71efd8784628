"""Reads of hot topics and warnings, for the roles that may see them.

Rules: supervisors, analysts and administrators see topics and warnings (the whole city: they
are centre roles); everyone else is refused (`Forbidden`). Lists come with their relations loaded.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from govcrm.cases.models import Case
from govcrm.common.errors import Forbidden, NotFound
from govcrm.organization.models import Role
from govcrm.organization.queries import Actor

from .models import Topic, TopicCase, TopicRun, Warning

VIEWERS = frozenset({Role.SUPERVISOR, Role.ANALYST, Role.ADMIN})


def _check(actor: Actor) -> None:
    if actor.role not in VIEWERS:
        raise Forbidden(_("Only supervisors and analysts see hot topics and warnings."))


def topic_run_latest(actor: Actor) -> TopicRun | None:
    _check(actor)
    return TopicRun.objects.order_by("-created_at", "-id").first()


def topic_run_get(actor: Actor, run_id: int) -> TopicRun:
    _check(actor)
    run = TopicRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(_("No such run."))
    return run


def topic_runs(actor: Actor, limit: int = 20) -> QuerySet[TopicRun]:
    _check(actor)
    return TopicRun.objects.order_by("-created_at", "-id")[:limit]


def topic_list(actor: Actor, run: TopicRun) -> QuerySet[Topic]:
    _check(actor)
    return run.topics.select_related("representative", "area").order_by("rank")


def topic_get(actor: Actor, topic_id: int) -> Topic:
    _check(actor)
    topic = Topic.objects.select_related("run", "representative", "area").filter(pk=topic_id).first()
    if topic is None:
        raise NotFound(_("No such topic."))
    return topic


def topic_cases(actor: Actor, topic: Topic) -> list[TopicCase]:
    _check(actor)
    return list(topic.links.select_related("case__category", "case__area", "case__lead_unit")
                .order_by("case__created_at", "case_id"))


def warning_list(actor: Actor, status: str | None = None) -> QuerySet[Warning]:
    _check(actor)
    qs = Warning.objects.select_related("area", "category", "topic", "task")
    return qs.filter(status=status) if status else qs


def warning_get(actor: Actor, warning_id: int) -> Warning:
    _check(actor)
    warning = (Warning.objects.select_related("area", "category", "topic", "task", "decided_by")
               .prefetch_related(Prefetch("source_cases", queryset=Case.objects.select_related(
                   "category", "area", "lead_unit").order_by("created_at", "id")))
               .filter(pk=warning_id).first())
    if warning is None:
        raise NotFound(_("No such warning."))
    return warning
