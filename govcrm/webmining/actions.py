"""Writes of web mining beyond the recorder: the pruning of old page views.

Rules:
- Page views older than `GOVCRM_WEB_MINING_RETENTION_DAYS` (default 400; 0 keeps them all) are
  deleted from the operational database by the daily retention job (`govcrm retention apply`,
  the worker's `cases.tasks.apply_retention`). Their statistics stay: the warehouse keeps the
  `fact_page_view` rows it loaded (the refresh every 15 minutes loads them long before), and a
  full rebuild keeps those whose source rows are gone (`analytics/warehouse/refresh.py`).
- Deleted in batches of `BATCH`, oldest first, each batch its own statement, so that a first run
  over years of views holds no long lock; safe to run twice. A dry run only counts.
- Searches (`PortalSearch`) are not pruned.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from .models import PageView

logger = logging.getLogger(__name__)

BATCH = 10_000


@dataclass(frozen=True)
class PruneResult:
    cutoff: dt.datetime | None  # None: pruning is off
    page_views: int
    dry_run: bool


def page_views_cutoff(now: dt.datetime | None = None) -> dt.datetime | None:
    days = int(settings.GOVCRM_WEB_MINING_RETENTION_DAYS)
    if days <= 0:
        return None
    return (now or timezone.now()) - dt.timedelta(days=days)


def page_views_prune(*, dry_run: bool = False, now: dt.datetime | None = None) -> PruneResult:
    """Delete the page views older than the retention period (a dry run counts them)."""
    cutoff = page_views_cutoff(now)
    if cutoff is None:
        return PruneResult(None, 0, dry_run)
    due = PageView.objects.filter(at__lt=cutoff)
    if dry_run:
        return PruneResult(cutoff, due.count(), True)
    deleted = 0
    while True:
        # Only the primary key is indexed; the oldest views have the lowest ids, so an id-ordered
        # scan finds a batch at once.
        ids = list(due.order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        deleted += due.filter(pk__gte=ids[0], pk__lte=ids[-1]).delete()[0]
        if len(ids) < BATCH:
            break
    if deleted:
        logger.info("pruned %s portal page views older than %s", deleted, cutoff.isoformat())
    return PruneResult(cutoff, deleted, False)
