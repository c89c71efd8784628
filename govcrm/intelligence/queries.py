"""Reads of the dispatch loop: a case's suggestion, dispatch quality per category, and drift.

Definitions (shown on the console page too):
- classifier accuracy: share of suggestions whose category is the case's category now (or an
  ancestor of it: a first-level suggestion narrowed by people counts as right);
- first-dispatch accuracy: share of dispatched cases whose first unit kept them (never returned
  退单, never transferred: one dispatch in all);
- return rate: share of dispatched cases returned at least once;
- drift: the share of suggestions that were unsure (below the category's threshold, or below
  `UNSURE` where none is set) or corrected by people, in the last `RECENT_DAYS` against the
  `BASELINE_DAYS` before; a warning when it rose by at least `DRIFT_POINTS` points and a
  one-sided two-proportion z-test gives p < `DRIFT_P` (about one false warning in a hundred
  looks at a stable system), with at least `DRIFT_MIN` recent suggestions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import Count, Exists, F, FloatField, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from govcrm.cases.models import Case, Category
from govcrm.cases.workflow import Status

from . import classifier, store
from .models import Feedback, Suggestion
from .proposals import category_for_label, propose

UNSURE = 0.6
RECENT_DAYS = 7
BASELINE_DAYS = 28
DRIFT_POINTS = 0.10
DRIFT_P = 0.01
DRIFT_MIN = 30


@dataclass(frozen=True)
class SuggestionView:
    """A suggestion as the console shows it: stored, or computed now for a case still waiting."""

    label: str
    category: Category | None
    unit_name: str | None
    confidence: float
    threshold: float | None
    outcome: str | None  # None: computed for display only, not stored
    model_version: str
    alternatives: list[tuple[str, float, Category | None]]


def suggestion_for_case(case: Case) -> SuggestionView | None:
    stored = (Suggestion.objects.filter(case_id=case.pk)
              .select_related("category__parent__parent", "unit", "model").first())
    if stored is not None:
        return SuggestionView(
            label=stored.label, category=stored.category, unit_name=stored.unit.name if stored.unit else None,
            confidence=stored.confidence, threshold=stored.threshold, outcome=stored.outcome,
            model_version=stored.model.version,
            alternatives=[(lab, p, category_for_label(lab)) for lab, p in stored.alternatives])
    if case.status not in (Status.REGISTERED, Status.RETURNED):
        return None
    active = store.active_model()
    if active is None:
        return None
    row, model = active
    proposal = propose(model, [(case.title, case.description, case.area)])[0]
    pred = proposal.prediction
    return SuggestionView(
        label=pred.label, category=proposal.category, unit_name=proposal.unit.name if proposal.unit else None,
        confidence=pred.confidence, threshold=proposal.threshold, outcome=None, model_version=row.version,
        alternatives=[(lab, p, category_for_label(lab)) for lab, p in pred.alternatives])


def suggest_for_text(text: str, *, top: int = 3) -> list[tuple[str, float, Category | None]]:
    """Ranked categories for a message being typed at intake (nothing stored)."""
    active = store.active_model()
    if active is None or not text.strip():
        return []
    _row, model = active
    pred = classifier.predict(model, [classifier.document(text)], top=top)[0]
    return [(lab, p, category_for_label(lab)) for lab, p in ((pred.label, pred.confidence), *pred.alternatives)]


@dataclass
class CategoryQuality:
    code: str
    name: str
    suggested: int = 0
    suggested_right: int = 0
    auto: int = 0
    dispatched: int = 0
    first_dispatch_kept: int = 0
    returned: int = 0

    @property
    def classifier_accuracy(self) -> float | None:
        return self.suggested_right / self.suggested if self.suggested else None

    @property
    def first_dispatch_accuracy(self) -> float | None:
        return self.first_dispatch_kept / self.dispatched if self.dispatched else None

    @property
    def return_rate(self) -> float | None:
        return self.returned / self.dispatched if self.dispatched else None


def _top_code(code: str) -> str:
    return code.split(".", 1)[0]


def dispatch_quality(*, days: int = 30, now: dt.datetime | None = None) -> list[CategoryQuality]:
    """Per first-level category, over the cases registered in the last `days` days."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    # Grouped by category id, not code: sorting 9,000 rows by a text key was most of the query.
    categories = {c.pk: c for c in Category.objects.only("id", "code", "name_zh", "name_en", "parent_id")}
    tops = {c.code: c for c in categories.values() if c.parent_id is None}
    out: dict[str, CategoryQuality] = {}

    def row(code: str) -> CategoryQuality:
        top = _top_code(code)
        if top not in out:
            out[top] = CategoryQuality(code=top, name=tops[top].name if top in tops else top)
        return out[top]

    def code_of(pk: int | None) -> str | None:
        return categories[pk].code if pk in categories else None

    cases = (Case.objects.filter(created_at__gte=since, dispatch_count__gt=0)
             .values("category_id")
             .annotate(n=Count("id"), kept=Count("id", filter=Q(dispatch_count=1, return_count=0)),
                       returned=Count("id", filter=Q(return_count__gt=0))).order_by())
    for r in cases:
        q = row(code_of(r["category_id"]))
        q.dispatched += r["n"]
        q.first_dispatch_kept += r["kept"]
        q.returned += r["returned"]
    # Counted by the database per (suggested, final, outcome): a few hundred rows, not one per suggestion.
    sugg = (Suggestion.objects.filter(created_at__gte=since)
            .values_list("category_id", "case__category_id", "outcome")
            .annotate(n=Count("id")).order_by())
    for suggested_id, final_id, outcome, n in sugg:
        suggested, final = code_of(suggested_id), code_of(final_id)
        q = row(final)
        q.suggested += n
        if outcome == Suggestion.Outcome.AUTO:
            q.auto += n
        if suggested and (final == suggested or final.startswith(suggested + ".")):
            q.suggested_right += n
    return sorted(out.values(), key=lambda q: q.code)


@dataclass(frozen=True)
class Drift:
    recent_n: int
    recent_rate: float | None
    baseline_n: int
    baseline_rate: float | None
    p_value: float | None
    warning: bool


def _troubled_counts(since: dt.datetime, until: dt.datetime) -> tuple[int, int]:
    """Suggestions in [since, until) and how many were unsure or corrected, counted by the database."""
    corrected = Feedback.objects.filter(suggestion=OuterRef("pk"))
    unsure = Q(confidence__lt=Coalesce(F("threshold"), Value(UNSURE), output_field=FloatField()))
    got = (Suggestion.objects.filter(created_at__gte=since, created_at__lt=until)
           .aggregate(n=Count("id"), bad=Count("id", filter=Q(Exists(corrected)) | unsure)))
    return got["n"], got["bad"]


def dispatch_drift(*, now: dt.datetime | None = None) -> Drift:
    now = now or timezone.now()
    recent_start = now - dt.timedelta(days=RECENT_DAYS)
    n1, b1 = _troubled_counts(recent_start, now)
    n0, b0 = _troubled_counts(recent_start - dt.timedelta(days=BASELINE_DAYS), recent_start)
    r1 = b1 / n1 if n1 else None
    r0 = b0 / n0 if n0 else None
    p = None
    if n1 and n0:
        pooled = (b1 + b0) / (n1 + n0)
        se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        z = (r1 - r0) / se if se > 0 else 0.0
        p = 0.5 * math.erfc(z / math.sqrt(2))
    warning = (p is not None and n1 >= DRIFT_MIN and r1 - r0 >= DRIFT_POINTS and p < DRIFT_P)
    return Drift(n1, r1, n0, r0, p, warning)


def feedback_counts(*, days: int = 30) -> dict[str, int]:
    since = timezone.now() - dt.timedelta(days=days)
    return dict(Feedback.objects.filter(created_at__gte=since).values_list("kind").annotate(n=Count("id")))
