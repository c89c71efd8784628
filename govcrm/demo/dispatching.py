"""The demo's dispatch classifier: trained on the demo's older history, tried on its last month.

The model learns from the cases registered before the last `HOLDOUT_DAYS` days and suggests the
cases of those days afterwards (stored as suggestions "shown only", at the time each case came),
so that the dispatch-quality page has honest out-of-sample figures from the first start. Every
first-level category gets an automatic-dispatch threshold of `THRESHOLD`: new messages from SMS,
e-mail or WeChat that arrive without a category are dispatched by the classifier when it is sure.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from govcrm.cases.models import Case, Category
from govcrm.intelligence import classifier, data, store
from govcrm.intelligence.actions import suggestion_build
from govcrm.intelligence.models import DispatchThreshold, Suggestion
from govcrm.intelligence.proposals import propose
from govcrm.organization.models import Area

HOLDOUT_DAYS = 30
THRESHOLD = 0.8
MIN_EXAMPLES = 200


def demo_classifier(*, now: dt.datetime | None = None) -> str:
    """Train, save, backfill the last month's suggestions, set thresholds. Returns a summary line."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=HOLDOUT_DAYS)
    examples = data.from_history(before=cutoff)
    if len(examples.docs) < MIN_EXAMPLES:
        return f"dispatch classifier: only {len(examples.docs)} old cases, not trained"
    trained = classifier.train(examples.docs, examples.labels, folds=0, jobs=1)
    row = store.model_save(trained=trained, source=f"history before {cutoff:%Y-%m-%d}")
    for top in Category.objects.filter(parent__isnull=True, active=True):
        DispatchThreshold.objects.get_or_create(category=top, defaults={"threshold": THRESHOLD})
    recent = list(Case.objects.filter(created_at__gte=cutoff, suggestion__isnull=True, dispatch_count__gt=0)
                  .values_list("pk", "title", "description", "created_at", "category_id", "area_id"))
    areas = {a.pk: a for a in Area.objects.select_related("parent__parent")}
    proposals = propose(trained.model, [(title, text, areas.get(area_id))
                                        for _pk, title, text, _at, _c, area_id in recent]) if recent else []
    suggestions = [suggestion_build(case_id=r[0], model=row, proposal=p, outcome=Suggestion.Outcome.INFO, at=r[3])
                   for r, p in zip(recent, proposals, strict=True)]
    right = sum(p.category is not None and p.category.pk == r[4] for r, p in zip(recent, proposals, strict=True))
    Suggestion.objects.bulk_create(suggestions, batch_size=1000)
    return (f"dispatch classifier {row.version}: trained on {trained.n:,} cases before {cutoff:%Y-%m-%d} "
            f"in {trained.seconds:.1f} s; right on {right:,} of the {len(suggestions):,} cases since")
