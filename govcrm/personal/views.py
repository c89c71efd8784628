"""Entry points of personalised service: the agent's next best action (console) and "for you" (portal).

- `nba` — GET `/console/personal/citizens/<id>/nba` (centre roles, like the caller lookup it sits in):
  an HTMX fragment beside the phone intake's caller record; the same content as a page without
  JavaScript. Nothing is written.
- `for_you` — GET `/for-you/` on the portal: the signed-in citizen's notices, recommended services
  and articles, applications in progress. Not signed in (or no record yet): an invitation to sign
  in, nothing personal.
The small block on the portal's pages is the template tag `personal_tags.for_you_block`.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from govcrm.channels.portal.signin import signed_in_citizen, signed_in_identity
from govcrm.citizens.models import Citizen
from govcrm.common.errors import NotFound
from govcrm.console.access import staff_view

from . import queries


def _live(citizen: Citizen) -> Citizen:
    seen = set()
    while citizen.merged_into_id and citizen.pk not in seen:  # a merged record speaks for its survivor
        seen.add(citizen.pk)
        citizen = Citizen.objects.get(pk=citizen.merged_into_id)
    return citizen


@require_GET
@staff_view(centre_only=True)
def nba(request, citizen_id: int):
    citizen = Citizen.objects.filter(pk=citizen_id).first()
    if citizen is None:
        raise NotFound(_("No such citizen."))
    citizen = _live(citizen)
    action = queries.next_best_action(request.actor, citizen, language=translation.get_language() or "zh-hans")
    template = "personal/_nba.html" if request.htmx else "personal/nba.html"
    return render(request, template, {"nba": action, "citizen_id": citizen.pk})


@require_GET
def for_you(request):
    citizen = signed_in_citizen(request)
    context = {"signed_in": signed_in_identity(request) is not None, "for_you": None}
    if citizen is not None:
        context["for_you"] = queries.for_citizen(_live(citizen), language=translation.get_language() or "zh-hans")
    return render(request, "personal/for_you.html", context)
