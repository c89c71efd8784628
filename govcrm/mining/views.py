"""Process mining pages in the console, under /console/mining/.

- `overview` — GET: the filters (event log, period, category, unit), the process map (SVG), the
  time between steps, the variants and the loops per category, unit and period.
- `export_xes`, `export_csv` — GET: the same filtered log as XES (pm4py's exporter) or CSV.
Supervisors, analysts and administrators mine the city; unit managers their subtree (queries.py).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from govcrm.cases.models import Category
from govcrm.cases.workflow import MOVES
from govcrm.common.errors import DomainError
from govcrm.console.access import error_page, staff_view
from govcrm.organization.models import Unit

from . import analysis, queries
from .svg import process_map

MAX_VARIANTS = 25


class FilterForm(forms.Form):
    source = forms.ChoiceField(label=gettext_lazy("Event log"), required=False, choices=[
        ("cases", gettext_lazy("Cases")), ("applications", gettext_lazy("Service applications"))])
    start = forms.DateField(label=gettext_lazy("Registered from"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("Registered until"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    category = forms.CharField(label=gettext_lazy("Category (code or code prefix)"), required=False, max_length=64)
    unit = forms.CharField(label=gettext_lazy("Unit (code)"), required=False, max_length=64)

    def filters(self) -> queries.Filters:
        d = self.cleaned_data
        return queries.Filters(source=d.get("source") or "cases", start=d.get("start"), end=d.get("end"),
                               category=(d.get("category") or "").strip(), unit=(d.get("unit") or "").strip())


def duration(seconds: float) -> str:
    if seconds < 3600:
        return _("%(n)d min") % {"n": round(seconds / 60)}
    if seconds < 2 * 86400:
        return _("%(n).1f h") % {"n": seconds / 3600}
    return _("%(n).1f d") % {"n": seconds / 86400}


def activity_label(source: str):
    def label(activity: str) -> str:
        if source == "cases":
            if activity == "register":
                return str(_("Register"))
            move = MOVES.get(activity)
            return str(move.label) if move else activity
        return activity

    return label


def _log(request):
    form = FilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return form, None, _("Check the filters.")
    filters = form.filters() if form.is_bound else queries.Filters()
    try:
        return form, queries.event_log(request.actor, filters), ""
    except DomainError as err:
        if err.status == 403:
            raise
        return form, None, err.message


def _names(model, codes) -> dict[str, str]:
    return {o.code: o.name for o in model.objects.filter(code__in=[c for c in codes if c])}


@require_GET
@staff_view
def overview(request):
    if not queries.may_mine(request.actor):
        return error_page(request, 403, _("Process mining is for supervisors, analysts and unit managers."))
    form, log, error = _log(request)
    context = {"form": form, "error": error, "log": log, "query": request.GET.urlencode()}
    if log is not None:
        source = form.filters().source if form.is_bound and form.is_valid() else "cases"
        label = activity_label(source)
        pmap = analysis.discover(log.traces)
        loops = analysis.loops(log.traces)
        units = _names(Unit, set(loops.by_unit) | {u for pair in loops.unit_pairs for u in pair})
        categories = _names(Category, loops.by_category) if source == "cases" else {}
        context.update({
            "svg": process_map(pmap, log.traces, label, duration, _("Process map")),
            "edges": [{"source": label(e.source), "target": label(e.target), "count": e.count,
                       "mean": duration(e.mean_s), "median": duration(e.median_s), "p90": duration(e.p90_s)}
                      for e in pmap.edges],
            "variants": [{"steps": [label(a) for a in v], "count": n, "share": round(100 * n / len(log.traces))}
                         for v, n in analysis.variants(log.traces)[:MAX_VARIANTS]],
            "loops": loops,
            "by_category": sorted(((categories.get(k, k) or "—", v) for k, v in loops.by_category.items()),
                                  key=lambda x: -x[1].traces),
            "by_unit": sorted(((units.get(k, k), v) for k, v in loops.by_unit.items()),
                              key=lambda x: (-(x[1].returns + x[1].ping_pong + x[1].send_backs), x[0])),
            "by_period": sorted(loops.by_period.items(), reverse=True),
            "pairs": [(units.get(a, a), units.get(b, b), n) for (a, b), n in loops.unit_pairs.most_common(20)],
        })
    return render(request, "mining/overview.html", context, status=422 if error else 200)


def _export_log(request):
    if not queries.may_mine(request.actor):
        return None, error_page(request, 403, _("Process mining is for supervisors, analysts and unit managers."))
    _form, log, error = _log(request)
    if log is None:
        return None, HttpResponse(error, status=422, content_type="text/plain; charset=utf-8")
    return log, None


def _filename(ext: str) -> str:
    return f"govcrm-process-{timezone.localdate().isoformat()}.{ext}"


@require_GET
@staff_view
def export_xes(request):
    log, refused = _export_log(request)
    if refused:
        return refused
    fd, path = tempfile.mkstemp(suffix=".xes")
    os.close(fd)
    try:
        analysis.write_xes(log.traces, path)
        with open(path, "rb") as fh:
            body = fh.read()
    finally:
        os.unlink(path)
    response = HttpResponse(body, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("xes")}"'
    return response


@require_GET
@staff_view
def export_csv(request):
    log, refused = _export_log(request)
    if refused:
        return refused
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 with a BOM
    writer = csv.writer(out)
    writer.writerow(["case", "activity", "timestamp", "unit", "category", "period"])
    for t in log.traces:
        for e in t.events:
            writer.writerow([t.key, e.activity, e.at.isoformat(), e.unit, t.category, t.period])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response
