"""Pruning of old page views: older than the retention period deleted in batches, newer kept; a dry
run counts; 0 keeps everything; the daily retention job and `govcrm retention apply` run it."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.utils.module_loading import import_string

from govcrm.webmining import actions
from govcrm.webmining.actions import page_views_prune
from govcrm.webmining.models import PageView, PortalSearch

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)


def views(*days_ago: int, now: dt.datetime = NOW) -> list[PageView]:
    return PageView.objects.bulk_create(
        PageView(at=now - dt.timedelta(days=d), session=f"s{n}", route="help:index", path="/help/", status=200,
                 duration_ms=5) for n, d in enumerate(days_ago))


def test_views_older_than_the_period_are_deleted_in_batches_and_newer_kept(settings, monkeypatch):
    settings.GOVCRM_WEB_MINING_RETENTION_DAYS = 400
    monkeypatch.setattr(actions, "BATCH", 2)
    views(900, 800, 401, 401, 400, 10, 0)
    PortalSearch.objects.create(at=NOW - dt.timedelta(days=900), session="s0", kind="knowledge", query="居住证",
                                results=3)
    result = page_views_prune(now=NOW)
    assert (result.page_views, result.dry_run) == (4, False)
    assert result.cutoff == NOW - dt.timedelta(days=400)
    assert sorted((NOW - v.at).days for v in PageView.objects.all()) == [0, 10, 400]  # 400 days exactly: kept
    assert PortalSearch.objects.count() == 1  # searches are not pruned
    assert page_views_prune(now=NOW).page_views == 0  # safe to run twice


def test_a_dry_run_counts_and_zero_keeps_everything(settings):
    views(500, 450, 1)
    settings.GOVCRM_WEB_MINING_RETENTION_DAYS = 400
    assert page_views_prune(dry_run=True, now=NOW).page_views == 2
    assert PageView.objects.count() == 3
    settings.GOVCRM_WEB_MINING_RETENTION_DAYS = 0
    result = page_views_prune(now=NOW)
    assert (result.cutoff, result.page_views) == (None, 0)
    assert PageView.objects.count() == 3


def test_the_retention_command_and_the_daily_job_prune_page_views(settings):
    settings.GOVCRM_WEB_MINING_RETENTION_DAYS = 400
    now = timezone.now()
    views(700, 2, now=now)
    out = io.StringIO()
    call_command("retention", "apply", "--dry-run", stdout=out)
    assert "would delete 1 portal page views" in out.getvalue() and PageView.objects.count() == 2
    call_command("retention", "apply", stdout=out)
    assert "deleted 1 portal page views" in out.getvalue()
    assert [(now - v.at).days for v in PageView.objects.all()] == [2]
    views(500, now=now)
    import_string("govcrm.cases.tasks.apply_retention").enqueue()
    assert [(now - v.at).days for v in PageView.objects.all()] == [2]
    settings.GOVCRM_WEB_MINING_RETENTION_DAYS = 0
    out = io.StringIO()
    call_command("retention", "apply", stdout=out)
    assert "page views are kept" in out.getvalue()
