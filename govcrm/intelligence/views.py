"""Console pages of the dispatch loop, under /console/dispatch/.

- `quality` — GET: per category, classifier accuracy, first-dispatch accuracy, return rate,
  automatic share; the drift warning; the model versions. For centre roles but agents.
- `suggest` — GET (HTMX, intake form): the ranked categories for the text typed so far; nothing stored.
- `accept` — POST only (CSRF): a dispatcher dispatches a case as suggested.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from govcrm.cases.workflow import CENTRE, CENTRE_DECIDERS
from govcrm.common.errors import DomainError
from govcrm.common.replica import replica_view
from govcrm.console.access import error_page, staff_view
from govcrm.organization.models import Role

from . import queries
from .actions import suggestion_accept
from .models import ClassifierModel, DispatchThreshold

QUALITY_ROLES = frozenset({*CENTRE_DECIDERS, Role.ANALYST})


QUALITY_CACHE_SECONDS = 60


def _quality_rows(days: int):
    """The per-category rates, shared by everyone who opens the page for a minute (django's cache,
    per language): 30 days of aggregates do not move in a minute, and counting them joins every
    suggestion to its case (100–200 ms of PostgreSQL at 200,000 cases)."""
    key = f"intelligence:quality:{days}:{get_language()}"
    rows = cache.get(key)
    if rows is None:
        rows = queries.dispatch_quality(days=days)
        cache.set(key, rows, QUALITY_CACHE_SECONDS)
    return rows


@require_GET
@staff_view
@replica_view  # a dashboard: its aggregates may read a replica a few seconds behind (docs/deploy.md)
def quality(request):
    if request.actor.role not in QUALITY_ROLES:
        return error_page(request, 403, _("Only dispatchers, supervisors, analysts and administrators see this page."))
    days = request.GET.get("days", "30")
    days = int(days) if days.isdigit() and 1 <= int(days) <= 366 else 30
    return render(request, "intelligence/quality.html", {
        "days": days,
        "rows": _quality_rows(days),
        "drift": queries.dispatch_drift(),
        "feedback": queries.feedback_counts(days=days),
        "versions": list(ClassifierModel.objects.all()[:10]),
        "thresholds": list(DispatchThreshold.objects.select_related("category").order_by("category__code")),
        "drift_rules": {"recent": queries.RECENT_DAYS, "baseline": queries.BASELINE_DAYS,
                        "points": int(queries.DRIFT_POINTS * 100), "p": queries.DRIFT_P, "min": queries.DRIFT_MIN},
    })


@require_GET
@staff_view(centre_only=True)
def suggest(request):
    text = (request.GET.get("description", "") + " " + request.GET.get("title", ""))[:5000]
    return render(request, "intelligence/_intake_suggestions.html",
                  {"ranked": queries.suggest_for_text(text)})


@require_POST
@staff_view
def accept(request, number: str):
    if request.actor.role not in CENTRE or request.actor.role == Role.ANALYST:
        return error_page(request, 403, _("Your role may not dispatch cases."))
    try:
        suggestion_accept(actor=request.actor, number=number)
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("Dispatched as suggested."))
    return redirect("console:case", number=number)
