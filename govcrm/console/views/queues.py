"""The dashboard (every queue of the signed-in role, counted, with its first rows) and one queue, paged.

Each queue costs one COUNT(*) capped at COUNT_CAP rows and one keyset-paged SELECT, whatever the
number of cases.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

from govcrm.cases.queries import LIST_COLUMNS, QUEUES_BY_ROLE, case_queue

from ..access import error_page, staff_view
from ..paging import keyset_page

DASHBOARD_ROWS = 10
PAGE_SIZE = 50
COUNT_CAP = 1_000  # a queue longer than this shows "more than 1,000"; no full count per view


@staff_view
def dashboard(request):
    actor = request.actor
    queues = [(name, keyset_page(case_queue(actor, name).only(*LIST_COLUMNS), size=DASHBOARD_ROWS, count_cap=COUNT_CAP))
              for name in QUEUES_BY_ROLE.get(actor.role, [])]
    return render(request, "console/dashboard.html", {"queues": queues})


@staff_view
def queue(request, queue: str):
    actor = request.actor
    if queue not in QUEUES_BY_ROLE.get(actor.role, []):
        return error_page(request, 404, _("Your role has no such queue."))
    page = keyset_page(case_queue(actor, queue).only(*LIST_COLUMNS), size=PAGE_SIZE,
                       after=request.GET.get("after"), before=request.GET.get("before"), count_cap=COUNT_CAP)
    return render(request, "console/queue.html", {"queue": queue, "page": page})
