"""A case page (fields, citizen, deadlines, timeline, one form per allowed move) and the moves.

A move is a POST to /console/cases/<number>/actions/<action>/ that calls `case_transition`.
Refused, it changes nothing and the page shows why (with HTMX only the case panel is swapped);
done, a plain form is redirected back to the case (POST/redirect/GET) and HTMX gets the new panel.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from govcrm.cases.actions import case_transition
from govcrm.cases.queries import case_citizen_visible, case_events, case_get, case_moves_for
from govcrm.cases.workflow import MOVES
from govcrm.channels.queries import attachment_for_case, interactions_for_case
from govcrm.citizens.queries import citizen_view
from govcrm.common.errors import DomainError, NotFound
from govcrm.common.forms import apply_error
from govcrm.intelligence.queries import suggestion_for_case
from govcrm.intelligence.replies import case_reply_score

from ..access import error_page, staff_view
from ..forms import UNIT_MOVES, MoveForm
from ..queries import unit_options


def _context(request, case, *, failed: MoveForm | None = None, error: str = "") -> dict:
    actor = request.actor
    moves = case_moves_for(actor, case)
    units = unit_options() if any(m.name in UNIT_MOVES and m.name != "subdispatch" for m in moves) else []
    failed_name = failed.move.name if failed is not None else None
    move_forms = [failed if m.name == failed_name else MoveForm(m, case=case, unit_choices=units)
                  for m in moves]
    visible = case_citizen_visible(actor, case)
    return {
        "case": case,
        "events": case_events(case),
        # Contacts through the channels, with their files; a 举报's messages stay with the centre.
        "contacts": list(interactions_for_case(case.pk)) if visible else [],
        "move_forms": move_forms,
        "citizen": citizen_view(case.citizen, actor) if case.citizen_id and visible else None,
        "citizen_confidential": bool(case.citizen_id) and not visible,
        # A hint for the centre when it reviews the unit's reply (and wherever it reads the reply).
        "reply_quality": case_reply_score(case) if actor.is_centre else None,
        # The dispatch classifier's suggestion (stored at intake, or computed now for a waiting case).
        "suggestion": suggestion_for_case(case) if actor.is_centre else None,
        "error": error,
        "failed_move": failed.move.name if failed is not None else "",
    }


def _render(request, case, *, status: int = 200, **kw) -> HttpResponse:
    template = "console/_case_panel.html" if request.htmx else "console/case.html"
    return render(request, template, _context(request, case, **kw), status=status)


@require_GET
@staff_view
def case_detail(request, number: str):
    return _render(request, case_get(request.actor, number))


@require_GET
@staff_view
def case_attachment(request, number: str, attachment_id: int):
    """A file that came with the case (photo, fax image), for staff who may see the case."""
    case = case_get(request.actor, number)
    if not case_citizen_visible(request.actor, case):
        raise NotFound(_("No such file."))
    attachment = attachment_for_case(case.pk, attachment_id)
    if attachment is None:
        raise NotFound(_("No such file."))
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type,
                            as_attachment=attachment.content_type not in INLINE_TYPES, filename=attachment.name)
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["X-Content-Type-Options"] = "nosniff"
    return response


INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"})


@require_POST
@staff_view
def case_action(request, number: str, action: str):
    actor = request.actor
    case = case_get(actor, number)  # 404 for a case the actor may not see
    move = MOVES.get(action)
    if move is None:
        return error_page(request, 404, _("There is no such move."))
    form = MoveForm(move, request.POST, case=case)
    if not form.is_valid():
        return _render(request, case, status=422, failed=form, error=_("Check the fields marked below."))
    try:
        case_transition(actor=actor, case=case.number, action=move.name, data=form.action_data())
    except DomainError as err:
        apply_error(form, err, top=False)
        return _render(request, case_get(actor, number), status=err.status, failed=form, error=err.message)
    messages.success(request, _("Done: %(move)s.") % {"move": move.label})
    try:
        case = case_get(actor, number)
    except NotFound:  # the move took the case out of the actor's sight
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Redirect": reverse("console:dashboard")})
        return redirect("console:dashboard")
    if request.htmx:
        return _render(request, case)
    return redirect("console:case", number=case.number)
