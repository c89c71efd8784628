"""Writes of the dispatch loop: suggest at intake, dispatch above the threshold, record corrections.

Rules:
- A case gets at most one suggestion, by the version active when it arrived (`case_suggest` is
  safe to run twice: the second run returns the first suggestion).
- Automatic dispatch only for a case still waiting for dispatch (registered, nobody moved it),
  when the predicted category is one a case can have (a leaf), a dispatch rule names its unit
  for the case's area, and the confidence reaches the most specific threshold the admin set on
  the category's chain. It goes through the ordinary moves (`reclassify`, then `dispatch`) as
  the system, with the model version and confidence in the event data.
- Feedback: every dispatch, transfer or reclassification by a person that differs from what was
  first decided (the suggestion, or the first dispatch) is appended, once per event.
- The classifier failing never fails an intake: the task logs and leaves the case to people.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govcrm.cases.actions import case_transition
from govcrm.cases.dispatch import RuleMatch, rule_for
from govcrm.cases.models import Case, CaseEvent, Category
from govcrm.cases.queries import case_get
from govcrm.cases.workflow import Status
from govcrm.common.errors import DomainError, ValidationFailed
from govcrm.organization.models import Unit
from govcrm.organization.queries import SYSTEM

from . import store
from .models import Feedback, Suggestion
from .proposals import Proposal, is_leaf, propose
from .queries import suggestion_for_case

logger = logging.getLogger(__name__)


def suggestion_build(*, case_id: int, model, proposal: Proposal, outcome: str, at) -> Suggestion:
    """An unsaved `Suggestion` row (saved one by one at intake, in bulk by the demo)."""
    pred = proposal.prediction
    return Suggestion(case_id=case_id, model=model, label=pred.label, category=proposal.category,
                      unit=proposal.unit, confidence=pred.confidence, threshold=proposal.threshold,
                      outcome=outcome, alternatives=[[lab, p] for lab, p in pred.alternatives], created_at=at)


WAITING_SINCE = dt.timedelta(days=1)  # how far back `with_waiting` looks for cases without a suggestion


def case_suggest(*, case_id: int, auto_dispatch: bool = True, with_waiting: int = 0) -> Suggestion | None:
    """Predict the category and unit of a case, store the suggestion, dispatch when sure enough.

    `with_waiting`: also suggest up to this many other new cases still without a suggestion (those
    dispatched by rule at intake get an informative one), in the same prediction. The classifier's
    fixed cost per call (a calibrated model per category) is most of the cost of one case, so a
    busy queue is worked off in batches: the jobs of the others then find their suggestion made
    and return (bench/RESULTS.md, "Load test", session 5).
    """
    existing = Suggestion.objects.filter(case_id=case_id).first()
    if existing is not None:
        return existing
    active = store.active_model()
    if active is None:
        return None
    cases = list(Case.objects.select_related("category", "area__parent__parent").filter(pk=case_id))
    if not cases:
        raise Case.DoesNotExist(case_id)
    if with_waiting:
        since = timezone.now() - WAITING_SINCE
        cases += list(Case.objects.select_related("category", "area__parent__parent")
                      .filter(suggestion__isnull=True, created_at__gte=since)
                      .exclude(pk=case_id).order_by("id")[:with_waiting])
    return cases_suggest(cases, active, auto_dispatch=auto_dispatch)[0]


def cases_suggest(cases: list[Case], active, *, auto_dispatch: bool = True) -> list[Suggestion | None]:
    """Suggestions for these cases from one prediction, each stored (and acted on) in a transaction
    of its own. A case suggested meanwhile by another worker keeps that suggestion."""
    row, model = active
    proposals = propose(model, [(case.title, case.description, case.area) for case in cases])
    return [_store_suggestion(case, row, proposal, auto_dispatch=auto_dispatch)
            for case, proposal in zip(cases, proposals, strict=True)]


def _store_suggestion(case: Case, row, proposal: Proposal, *, auto_dispatch: bool) -> Suggestion | None:
    waiting = case.status == Status.REGISTERED and case.version == 1
    outcome = (Suggestion.Outcome.AUTO if (auto_dispatch and proposal.sure and waiting)
               else Suggestion.Outcome.PENDING if case.status in (Status.REGISTERED, Status.RETURNED)
               else Suggestion.Outcome.INFO)
    try:
        with transaction.atomic():
            suggestion = suggestion_build(case_id=case.pk, model=row, proposal=proposal, outcome=outcome,
                                          at=timezone.now())
            suggestion.save()
            if outcome == Suggestion.Outcome.AUTO:
                try:
                    with transaction.atomic():
                        note = {"model": row.version, "confidence": suggestion.confidence}
                        _dispatch_as(SYSTEM, case, proposal.category, proposal.rule, {"classifier": note})
                except DomainError:  # a person moved the case meanwhile: theirs stands
                    suggestion.outcome = Suggestion.Outcome.PENDING
                    suggestion.save(update_fields=["outcome"])
    except IntegrityError:  # another worker suggested this case at the same moment
        return Suggestion.objects.filter(case_id=case.pk).first()
    return suggestion


def _dispatch_as(actor, case: Case, category: Category, rule: RuleMatch, extra: dict) -> Case:
    """The ordinary moves: reclassify when the category differs, then dispatch by the rule."""
    if case.category_id != category.pk:
        case_transition(actor=actor, case=case.number, action="reclassify",
                        data={"category": category.code, **extra})
    return case_transition(actor=actor, case=case.number, action="dispatch", data={
        "unit": rule.unit.code, "co_units": [u.code for u in rule.co_units], "rule": rule.rule_id, **extra})


# --- feedback ---------------------------------------------------------------------------------

def feedback_record(*, case: Case, event: CaseEvent) -> Feedback | None:
    """Called by `case_transition` inside its transaction after a dispatch, transfer or reclassify.

    The system's own moves are not feedback. A person's dispatch is a correction when it goes to
    another unit or category than the suggestion; after a return 退单 it is a return feedback when
    the new unit differs from the one that returned it; a transfer always is.
    """
    if event.actor_id is None:
        return None
    suggestion = Suggestion.objects.filter(case_id=case.pk).select_related("category", "unit").first()
    data = event.data or {}
    kind = None
    from_unit = to_unit = from_cat = to_cat = None
    if event.action == "reclassify":
        change = (data.get("changes") or {}).get("category")
        if not change:
            return None
        kind = Feedback.Kind.RECLASSIFY
        from_cat = Category.objects.filter(code=change[0]).first()
        to_cat = case.category
    elif event.action == "transfer":
        kind = Feedback.Kind.TRANSFER
        from_unit = Unit.objects.filter(code=data.get("from_unit")).first() if data.get("from_unit") else None
        to_unit = case.lead_unit
    elif event.action == "dispatch":
        to_unit = case.lead_unit
        to_cat = case.category
        if event.from_status == Status.RETURNED:
            returned = case.events.filter(action="return").order_by("-seq").values_list("data", flat=True).first()
            code = (returned or {}).get("unit")
            if code and code != to_unit.code:
                kind = Feedback.Kind.RETURN
                from_unit = Unit.objects.filter(code=code).first()
        elif suggestion is not None and (
                (suggestion.unit_id and suggestion.unit_id != to_unit.pk)
                or (suggestion.category_id and not _within(case.category, suggestion.category_id))):
            kind = Feedback.Kind.CORRECTION
            from_unit, from_cat = suggestion.unit, suggestion.category
    if kind is None:
        return None
    return Feedback.objects.create(
        case=case, suggestion=suggestion, kind=kind, predicted_label=suggestion.label if suggestion else "",
        from_category=from_cat, to_category=to_cat or case.category, from_unit=from_unit,
        to_unit=to_unit, event_seq=event.seq, created_at=event.at)


def _within(category: Category, ancestor_id: int) -> bool:
    """The category is the suggested one or below it (a first-level suggestion narrowed by people)."""
    node = category
    while node is not None:
        if node.pk == ancestor_id:
            return True
        node = node.parent
    return False


def suggestion_accept(*, actor, number: str) -> Case:
    """A dispatcher takes the suggestion: the case gets the suggested category and goes to its unit."""
    case = case_get(actor, number)
    view = suggestion_for_case(case)
    if view is None or not is_leaf(view.category):
        raise ValidationFailed(_("There is no suggestion with a category a case can have."))
    rule = rule_for(view.category, case.area)
    if rule is None:
        raise ValidationFailed(_("No dispatch rule names a unit for this category and area."))
    with transaction.atomic():
        return _dispatch_as(actor, case, view.category, rule, {})
