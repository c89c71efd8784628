"""Console pages of duplicate incidents (并案), under /console/incidents/.

- `similar` — GET (HTMX while the agent types at intake): open cases that may be the same incident.
- `case_panel` — GET: on a case page, the incident the case is in and, for the centre, the
  possible duplicates with merge buttons (a full page without HTMX).
- `merge` — POST only (CSRF): merge cases into a lead case. Nothing changes on GET.
Unmerging is the case's own `unmerge` move, offered on the merged case's page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from govcrm.cases.queries import case_get
from govcrm.common.errors import DomainError
from govcrm.console.access import error_page, staff_view

from . import queries
from .actions import incident_merge


class DraftForm(forms.Form):
    description = forms.CharField(required=False, max_length=4000)
    title = forms.CharField(required=False, max_length=200)
    address = forms.CharField(required=False, max_length=300)
    category = forms.CharField(required=False, max_length=64)
    area = forms.CharField(required=False, max_length=64)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90)
    lon = forms.FloatField(required=False, min_value=-180, max_value=180)


class MergeForm(forms.Form):
    lead = forms.CharField(label=gettext_lazy("Lead case"), max_length=20)
    cases = forms.CharField(label=gettext_lazy("Cases to merge"), max_length=2000,
                            help_text=gettext_lazy("Case numbers, separated by spaces or commas."))
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=2000)
    back = forms.CharField(required=False, max_length=20)

    def numbers(self) -> list[str]:
        return [n for n in self.cleaned_data["cases"].replace(",", " ").split() if n]


@require_GET
@staff_view(centre_only=True)
def similar(request):
    """The possible duplicates of the intake draft (lat/lon that do not parse are left out)."""
    form = DraftForm(request.GET)
    form.is_valid()
    d = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    draft = queries.Draft(description=d.get("description", ""), title=d.get("title", ""),
                          address=d.get("address", ""), category=d.get("category"), area=d.get("area"),
                          lat=d.get("lat") if "lon" in d else None, lon=d.get("lon") if "lat" in d else None)
    try:
        items = queries.similar_to_draft(request.actor, draft) if draft.description.strip() else []
    except DomainError as err:
        return error_page(request, err.status, err.message)
    context = {"items": items, "case": None, "may_merge": False, "searched": bool(draft.description.strip())}
    template = "incidents/_similar.html" if request.htmx else "incidents/similar_page.html"
    return render(request, template, context)


def _panel_context(request, case) -> dict:
    actor = request.actor
    centre = queries.may_propose(actor)
    return {
        "case": case,
        "incident": queries.incident_for(case),
        "items": queries.similar_to_case(actor, case) if centre else [],
        "show_similar": centre and case.status != "closed",
        "may_merge": queries.may_merge(actor),
        "searched": True,
    }


@require_GET
@staff_view
def case_panel(request, number: str):
    case = case_get(request.actor, number)  # 404 for a case the actor may not see
    template = "incidents/_case_panel.html" if request.htmx else "incidents/case_page.html"
    return render(request, template, _panel_context(request, case))


@require_POST
@staff_view
def merge(request):
    if not queries.may_merge(request.actor):
        return error_page(request, 403, _("Only dispatchers and supervisors merge cases."))
    form = MergeForm(request.POST)
    back = request.POST.get("back", "")[:20]
    if not form.is_valid():
        messages.error(request, _("Check the fields: name the lead case and the cases to merge."))
        return redirect("console:case", number=back) if back else redirect("console:dashboard")
    lead, numbers = form.cleaned_data["lead"].strip(), form.numbers()
    try:
        lead_case = case_get(request.actor, lead)
        found = {s.case.number: s.proposal for s in queries.similar_to_case(request.actor, lead_case)}
        similarity = {n: {"score": found[n].score, "text": found[n].text} for n in numbers if n in found}
        incident_merge(actor=request.actor, lead=lead, cases=numbers, reason=form.cleaned_data["reason"],
                       similarity=similarity)
    except DomainError as err:
        messages.error(request, err.message)
        return redirect("console:case", number=back) if back else redirect("console:dashboard")
    messages.success(request, _("Merged into case %(lead)s: %(cases)s.") % {"lead": lead, "cases": ", ".join(numbers)})
    return redirect("console:case", number=lead)
