"""A citizen's page: the record (masked by role) and the timeline of every contact and case.

Centre roles only: a unit sees a citizen through its cases, never the whole history.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from govcrm.cases.queries import case_list_for_citizen
from govcrm.channels.queries import timeline_for_citizen
from govcrm.citizens.models import Citizen
from govcrm.citizens.queries import citizen_view
from govcrm.common.errors import NotFound

from ..access import staff_view

TIMELINE_SHOWN = 100


@require_GET
@staff_view(centre_only=True)
def citizen_detail(request, citizen_id: int):
    citizen = Citizen.objects.filter(pk=citizen_id).prefetch_related("identities").first()
    if citizen is None:
        raise NotFound(_("No such citizen."))
    return render(request, "console/citizen.html", {
        "citizen": citizen_view(citizen, request.actor),
        "cases": list(case_list_for_citizen(citizen.pk)[:TIMELINE_SHOWN]),
        "contacts": list(timeline_for_citizen(citizen.pk, TIMELINE_SHOWN)),
    })
