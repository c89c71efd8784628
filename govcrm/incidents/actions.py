"""Merging cases into one incident (并案) and taking them out again.

Rules:
- Only dispatchers, supervisors and administrators merge (the state table's `merge` move).
- `incident_merge` merges every named case into the lead in one transaction, each through
  `cases.actions.case_transition(action="merge")`: all of them or none. The merged cases are
  closed with reason `merged`, follow the lead (no dispatch, no deadline of their own) and get
  the lead's reply when it is approved (see cases.actions). The proposal's score and reasons,
  when the dispatcher merged from a proposal, are kept in the merge event.
- `incident_unmerge` is the `unmerge` move: possible until the lead's reply is approved.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from govcrm.cases.actions import case_transition
from govcrm.cases.models import Case
from govcrm.common.errors import Forbidden, ValidationFailed
from govcrm.organization.queries import Actor

from .queries import may_merge

MAX_MERGE = 50


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={field: message})


def incident_merge(*, actor: Actor, lead: str, cases: list[str], reason: str = "",
                   similarity: dict[str, dict] | None = None) -> Case:
    """Merge `cases` (numbers) into the lead case; returns the lead."""
    if not may_merge(actor):
        raise Forbidden(_("Only dispatchers and supervisors merge cases."))
    numbers = list(dict.fromkeys(n.strip() for n in cases if n and n.strip()))
    if not lead or not lead.strip():
        raise _fail("lead", _("Name the lead case."))
    lead = lead.strip()
    if not numbers:
        raise _fail("cases", _("Choose at least one case to merge."))
    if lead in numbers:
        raise _fail("cases", _("A case cannot be merged into itself."))
    if len(numbers) > MAX_MERGE:
        raise _fail("cases", _("Merge at most %(n)d cases at once.") % {"n": MAX_MERGE})
    similarity = similarity or {}
    with transaction.atomic():
        for number in numbers:
            data: dict = {"into": lead}
            if number in similarity:
                data["similarity"] = similarity[number]
            case_transition(actor=actor, case=number, action="merge", data=data, reason=reason)
        return Case.objects.get(number=lead)


def incident_unmerge(*, actor: Actor, case: str, reason: str) -> Case:
    """Take a merged case out of its incident, back to the state it was merged from."""
    if not may_merge(actor):
        raise Forbidden(_("Only dispatchers and supervisors merge cases."))
    return case_transition(actor=actor, case=case, action="unmerge", reason=reason)
