"""Search over the cases the actor may see: words (Chinese or English) and filters, keyset-paged."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from govcrm.cases.queries import LIST_COLUMNS, CaseFilter, case_search
from govcrm.cases.search import RARE

from ..access import staff_view
from ..forms import SearchForm
from ..paging import keyset_page

PAGE_SIZE = 50
# "More than 1,000": counting 50,000 matches on every view cost 100 ms. The words' own count (at
# most RARE + 1, cases.queries.case_search) answers it for the centre.
COUNT_CAP = RARE


@require_GET
@staff_view
def search(request):
    form = SearchForm(request.GET)
    page = None
    if request.GET and form.is_valid():
        d = form.cleaned_data
        f = CaseFilter(q=d["q"].strip() or None, status=d["status"] or None, category=d["category"] or None,
                       unit=d["unit"] or None, area=d["area"] or None)
        cases, known = case_search(request.actor, f)  # a centre's search by words is counted already
        page = keyset_page(cases.only(*LIST_COLUMNS), size=PAGE_SIZE, after=request.GET.get("after"),
                           before=request.GET.get("before"), count_cap=COUNT_CAP, known=known)
    return render(request, "console/search.html", {"form": form, "page": page})
