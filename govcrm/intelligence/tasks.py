"""Background jobs of the dispatch loop. Each takes ids or nothing and is safe to run twice."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone
from django_tasks import task

from govcrm.cases.models import Case
from govcrm.cases.workflow import Status
from govcrm.common.jobs import enqueue_on_commit

from . import store
from .actions import case_suggest

logger = logging.getLogger(__name__)


def suggest_enqueue(case_id: int) -> None:
    """After the intake commits, ask for a suggestion — only when a model is trained."""
    if store.active_row() is None:
        return
    enqueue_on_commit(lambda: suggest_dispatch.enqueue(case_id), f"the suggestion of case {case_id}")


# A job suggests its case and, in the same prediction, up to this many others still waiting.
SUGGEST_BATCH = 49


@task()
def suggest_dispatch(case_id: int) -> str | None:
    suggestion = case_suggest(case_id=case_id, with_waiting=SUGGEST_BATCH)
    return suggestion.outcome if suggestion else None


@task()
def suggest_missing(days: int = 2) -> int:
    """Catch up on cases that arrived without a suggestion (a lost enqueue, a model trained later)."""
    if store.active_row() is None:
        return 0
    since = timezone.now() - dt.timedelta(days=days)
    ids = list(Case.objects.filter(created_at__gte=since, status=Status.REGISTERED, suggestion__isnull=True)
               .values_list("pk", flat=True)[:500])
    for case_id in ids:
        try:
            case_suggest(case_id=case_id, with_waiting=SUGGEST_BATCH)  # most are done by the first ones' batches
        except Exception:
            logger.exception("suggestion failed for case %s", case_id)
    return len(ids)
