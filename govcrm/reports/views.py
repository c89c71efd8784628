"""Console pages of the scheduled reports, under /console/reports/.

- `report_list` — GET: past reports the caller may download (city reports for supervisors,
  analysts and administrators, and every unit's; a unit manager's own subtree's), and recent
  mailings (an administrator's: everyone's).
- `report_download` — GET: a report's PDF or XLSX.
- `subscriptions` — GET: the caller's subscriptions (an administrator: everyone's) and the form;
  POST (CSRF): subscribe or change a subscription (an administrator may name another staff member).
- `subscription_delete` — POST: end a subscription.
Who may use them: the roles that receive reports (queries.RECEIVERS); others get 403. Nothing
changes on GET.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from govcrm.common.errors import DomainError, NotFound
from govcrm.console.access import error_page, staff_view

from . import queries
from .actions import FORMATS, LANGUAGES, file_name, subscription_delete, subscription_save
from .models import Kind, Report
from .periods import Period


def _period_label(report: Report) -> str:
    return Period.containing(report.kind, report.period_start).label()


@require_GET
@staff_view
def report_list(request):
    reports = list(queries.reports_visible(request.actor)[:200])
    for report in reports:
        report.period_label = _period_label(report)
    return render(request, "reports/list.html", {
        "reports": reports, "deliveries": queries.deliveries_recent(request.actor)})


@require_GET
@staff_view
def report_download(request, report_id: int, fmt: str):
    if fmt not in FORMATS:
        raise Http404
    try:
        report = queries.report_get(request.actor, report_id)
    except NotFound as err:  # the console's own 404 page speaks of cases
        return error_page(request, 404, err.message)
    data = Report.objects.values_list(fmt, flat=True).get(pk=report.pk)
    response = HttpResponse(bytes(data), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{file_name(report, fmt)}"'
    return response


def _subscriptions_page(request, *, form: dict | None = None, errors: dict | None = None, status: int = 200):
    actor = request.actor
    mine = {s.kind: s for s in queries.subscriptions_visible(actor).filter(user_id=actor.user_id)}
    return render(request, "reports/subscriptions.html", {
        "kinds": [(value, label, mine.get(value)) for value, label in Kind.choices],
        "languages": [(code, name) for code, name in request_languages()],
        "all": list(queries.subscriptions_visible(actor)) if actor.role == "admin" else [],
        "staff": queries.subscribers_choosable(actor), "form": form or {}, "errors": errors or {},
        "has_email": bool(request.user.email),
    }, status=status)


def request_languages():
    from django.conf import settings

    return [(code, "简体中文" if code.startswith("zh") else "English") for code, _n in settings.LANGUAGES
            if code in LANGUAGES]


@require_http_methods(["GET", "POST"])
@staff_view
def subscriptions(request):
    queries.report_scope(request.actor)
    if request.method == "GET":
        return _subscriptions_page(request)
    post = request.POST
    form = {"kind": post.get("kind", ""), "language": post.get("language", ""), "pdf": bool(post.get("pdf")),
            "xlsx": bool(post.get("xlsx")), "user": post.get("user", "").strip()}
    try:
        sub = subscription_save(actor=request.actor, kind=form["kind"], language=form["language"], pdf=form["pdf"],
                                xlsx=form["xlsx"], username=form["user"] or None)
    except DomainError as err:
        if err.status == 403:
            raise
        return _subscriptions_page(request, form=form, errors={"message": err.message, **err.details}, status=422)
    messages.success(request, _("Subscribed %(user)s to the %(kind)s.") % {
        "user": sub.user.get_username(), "kind": sub.get_kind_display()})
    return redirect("reports:subscriptions")


@require_POST
@staff_view
def subscription_delete_view(request, subscription_id: int):
    try:
        subscription_delete(actor=request.actor, subscription_id=subscription_id)
    except NotFound as err:
        return error_page(request, 404, err.message)
    messages.success(request, _("Subscription ended."))
    return redirect("reports:subscriptions")



