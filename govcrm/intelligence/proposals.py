"""What the classifier proposes for a message: its label read as a category, the unit the dispatch
rules give for the message's area, and the automatic-dispatch threshold that applies. Reads only."""

from __future__ import annotations

from dataclasses import dataclass

from govcrm.cases.dispatch import RuleMatch, rule_for
from govcrm.cases.models import Category
from govcrm.cases.queries import active_categories
from govcrm.common.reference import cached
from govcrm.organization.models import Area, Unit

from . import classifier
from .models import DispatchThreshold


def _categories() -> dict[str, Category]:
    """Every active category by code, Chinese name and English name (lower-cased)."""
    def load():
        out: dict[str, Category] = {}
        for c in Category.objects.filter(active=True).select_related("parent__parent"):
            for key in (c.name_en.lower(), c.name_zh, c.code):  # the code wins over a clashing name
                out[key] = c
        return out
    return cached("intelligence_categories", load)


def category_for_label(label: str) -> Category | None:
    """A model's label as a category: by code (history models) or by name (models trained on
    outside data such as the Teddy Cup first-level labels 城乡建设, 交通运输 …)."""
    table = _categories()
    return table.get(label) or table.get(label.strip().lower())


def threshold_for(category: Category) -> float | None:
    table = cached("dispatch_thresholds", lambda: {
        t.category_id: t.threshold for t in DispatchThreshold.objects.filter(auto_dispatch=True)})
    node = category
    while node is not None:
        if node.pk in table:
            return table[node.pk]
        node = node.parent
    return None


@dataclass(frozen=True)
class Proposal:
    """What the classifier proposes for one message: its prediction read as category, rule, threshold."""

    prediction: classifier.Prediction
    category: Category | None
    rule: RuleMatch | None  # the dispatch rule for the category and the case's area
    threshold: float | None

    @property
    def unit(self) -> Unit | None:
        return self.rule.unit if self.rule else None

    @property
    def sure(self) -> bool:
        """Confident enough to dispatch alone: a leaf category with a rule, at or above its threshold."""
        return (self.threshold is not None and self.prediction.confidence >= self.threshold
                and self.rule is not None and is_leaf(self.category))


def is_leaf(category: Category | None) -> bool:
    return category is not None and active_categories().get(category.code, (None, False))[1]


def propose(model, messages: list[tuple[str, str, Area | None]]) -> list[Proposal]:
    """Proposals for (title, description, area) messages, predicted in one batch."""
    predictions = classifier.predict(model, [classifier.document(text, title) for title, text, _a in messages])
    out = []
    for (_t, _d, area), pred in zip(messages, predictions, strict=True):
        category = category_for_label(pred.label)
        out.append(Proposal(pred, category, rule_for(category, area) if category else None,
                            threshold_for(category) if category else None))
    return out
