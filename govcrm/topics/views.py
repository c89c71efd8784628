"""Console pages of hot topics and early warnings, under /console/topics/.

- `topic_list` — GET: the topics of the latest run (or `?run=`), with trend and channel mix.
- `topic_detail` — GET: one topic's cases and their map (an SVG scatter, no tiles).
- `warning_list` — GET: warnings, new ones first (`?status=`).
- `warning_detail` — GET: a warning, its source cases and, for supervisors, the decision forms.
- `warning_dismiss`, `warning_convert` — POST only (CSRF): decide a warning. Nothing changes on GET.
Supervisors, analysts and administrators see these pages; only supervisors and administrators decide.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from govcrm.cases.models import Urgency
from govcrm.common.errors import DomainError
from govcrm.console.access import staff_view
from govcrm.console.queries import unit_options

from . import queries
from .actions import DECIDERS, TaskInput, warning_convert, warning_defaults, warning_dismiss, warning_subject
from .models import Warning
from .svg import scatter, sparkline


class ConvertForm(forms.Form):
    category = forms.CharField(label=gettext_lazy("Category code"), max_length=64, required=False)
    unit = forms.ChoiceField(label=gettext_lazy("Unit"), required=False)
    urgency = forms.ChoiceField(label=gettext_lazy("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200, required=False)
    description = forms.CharField(label=gettext_lazy("Description"), widget=forms.Textarea(attrs={"rows": 4}),
                                  required=False)

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", gettext_lazy("By dispatch rule")), *units]


class DismissForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Why dismiss"), max_length=2000, required=False)


@require_GET
@staff_view
def topic_list(request):
    run_id = request.GET.get("run", "")
    run = (queries.topic_run_get(request.actor, int(run_id)) if run_id.isdigit()
           else queries.topic_run_latest(request.actor))
    topics = list(queries.topic_list(request.actor, run)) if run else []
    rows = [{"topic": t, "spark": sparkline(t.daily)} for t in topics]
    return render(request, "topics/topic_list.html",
                  {"run": run, "rows": rows, "runs": queries.topic_runs(request.actor)})


@require_GET
@staff_view
def topic_detail(request, topic_id: int):
    topic = queries.topic_get(request.actor, topic_id)
    links = queries.topic_cases(request.actor, topic)
    bounds = (topic.run.params or {}).get("bounds")
    points = [(link.case.lat, link.case.lon, link.case.number) for link in links if link.case.lat is not None]
    return render(request, "topics/topic_detail.html", {
        "topic": topic, "links": links, "spark": sparkline(topic.daily, width=240, height=40),
        "map": scatter(points, bounds) if points else "",
    })


@require_GET
@staff_view
def warning_list(request):
    status = request.GET.get("status", Warning.Status.NEW)
    if status not in Warning.Status.values and status != "all":
        status = Warning.Status.NEW
    warnings = list(queries.warning_list(request.actor, None if status == "all" else status)[:200])
    rows = [{"warning": w, "subject": warning_subject(w)} for w in warnings]
    return render(request, "topics/warning_list.html",
                  {"rows": rows, "status": status, "statuses": Warning.Status.choices})


def _warning_page(request, warning, *, convert_form=None, dismiss_form=None, status=200):
    may_decide = request.actor.role in DECIDERS and warning.status == Warning.Status.NEW
    if may_decide and convert_form is None:
        d = warning_defaults(warning)
        convert_form = ConvertForm(units=unit_options(), initial={
            "category": d["category"], "title": d["title"], "description": d["description"]})
    return render(request, "topics/warning_detail.html", {
        "warning": warning, "subject": warning_subject(warning), "may_decide": may_decide,
        "convert_form": convert_form, "dismiss_form": dismiss_form or DismissForm(),
        "sources": list(warning.source_cases.all()),
    }, status=status)


@require_GET
@staff_view
def warning_detail(request, warning_id: int):
    return _warning_page(request, queries.warning_get(request.actor, warning_id))


@require_POST
@staff_view
def warning_dismiss_view(request, warning_id: int):
    warning = queries.warning_get(request.actor, warning_id)
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            warning_dismiss(actor=request.actor, warning_id=warning.pk, note=form.cleaned_data["note"])
        except DomainError as err:
            if err.status == 403:
                raise
            messages.error(request, err.message)
        else:
            messages.success(request, _("Warning dismissed."))
    return redirect("topics:warning", warning_id=warning.pk)


@require_POST
@staff_view
def warning_convert_view(request, warning_id: int):
    warning = queries.warning_get(request.actor, warning_id)
    form = ConvertForm(request.POST, units=unit_options())
    if not form.is_valid():
        return _warning_page(request, warning, convert_form=form, status=422)
    data = form.cleaned_data
    try:
        task = warning_convert(actor=request.actor, warning_id=warning.pk, task=TaskInput(
            category=data["category"].strip(), unit=data["unit"], urgency=data["urgency"], title=data["title"],
            description=data["description"], language=get_language() or "zh-hans"))
    except DomainError as err:
        if err.status == 403:
            raise
        for field, message in (err.details or {}).items():
            form.add_error(field if field in form.fields else None, message)
        if not err.details:
            form.add_error(None, err.message)
        return _warning_page(request, warning, convert_form=form, status=422)
    messages.success(request, _("Proactive task %(number)s opened.") % {"number": task.number})
    return redirect("console:case", number=task.number)
