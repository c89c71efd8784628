"""The portal web-mining and citizen-segment pages of the dashboards (GET only; who: web.WHO).

- `web_usage` — /dashboards/web/: most used services and articles, most viewed pages, frequent
  searches and those that found nothing, the online application funnel, entry and exit pages,
  for a period of months (`from`, `to`).
- `segments` — /dashboards/segments/: the citizen segments with their sizes and descriptions.
- `web_export`, `segments_export` — a table of those pages as CSV or XLSX, every row, as on screen.
- `outreach_export` — a segment's outreach list (citizens who may be contacted) as CSV or XLSX:
  contact data in clear for supervisors and administrators (audited), masked for analysts.
A missing or busy warehouse gives the dashboards' 503 page (views._unavailable).
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from govcrm.console.access import staff_view
from govcrm.organization.models import Role

from . import queries, web
from .exports import FORMATS, table_bytes
from .views import _tabs, _unavailable
from .warehouse import WarehouseError, schema


def _open(request):
    web.check_access(request.actor)
    try:
        con = queries.open_warehouse()
    except WarehouseError as err:
        return _unavailable(request, err)
    row = con.execute("SELECT value FROM etl_state WHERE name = 'schema_version'").fetchone()
    if not row or row[0] != schema.SCHEMA_VERSION:  # built by an older version: the next refresh rebuilds it
        con.close()
        return _unavailable(request, WarehouseError(
            _("The warehouse was built by an older version of GovCRM: run “govcrm warehouse refresh”.")))
    return con


def _download(table: queries.Table, fmt: str, suffix: str) -> HttpResponse:
    response = HttpResponse(table_bytes(table, fmt), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="govcrm-{table.name}-{suffix}.{fmt}"'
    return response


@require_GET
@staff_view
def web_usage(request):
    con = _open(request)
    if isinstance(con, HttpResponse):
        return con
    try:
        period = web.period_parse(con, request.GET)
        data = web.web_report(con, period)
    finally:
        con.close()
    return render(request, "analytics/web.html", {
        "page": "web", "period": period, "data": data, "query": period.query(),
        "tables": list(data["tables"].values()), "export": "analytics:web_export", "pages": _tabs(),
    }, status=400 if period.errors else 200)


@require_GET
@staff_view
def web_export(request, table: str, fmt: str):
    if fmt not in FORMATS:
        raise Http404
    con = _open(request)
    if isinstance(con, HttpResponse):
        return con
    try:
        period = web.period_parse(con, request.GET)
        if period.errors:
            return HttpResponse("\n".join(period.errors), status=400, content_type="text/plain; charset=utf-8")
        tables = web.web_report(con, period)["tables"]
    finally:
        con.close()
    if table not in tables:
        raise Http404
    suffix = f"{queries.month_label(period.start)}_{queries.month_label(period.end)}" if period.start else "all"
    return _download(tables[table], fmt, suffix)


@require_GET
@staff_view
def segments(request):
    con = _open(request)
    if isinstance(con, HttpResponse):
        return con
    try:
        data = web.segments_report(con)
    finally:
        con.close()
    return render(request, "analytics/segments.html", {
        "page": "segments", "data": data, "query": {}, "tables": list(data["tables"].values()),
        "outreach_clear": request.actor.role in (web.WHO - {Role.ANALYST}), "pages": _tabs(),
    })


@require_GET
@staff_view
def segments_export(request, fmt: str):
    if fmt not in FORMATS:
        raise Http404
    con = _open(request)
    if isinstance(con, HttpResponse):
        return con
    try:
        table = web.segments_report(con)["tables"]["segments"]
    finally:
        con.close()
    return _download(table, fmt, "all")


@require_GET
@staff_view
def outreach_export(request, key: int, fmt: str):
    if fmt not in FORMATS:
        raise Http404
    con = _open(request)
    if isinstance(con, HttpResponse):
        return con
    try:
        table = web.outreach(con, key, request.actor)
    finally:
        con.close()
    return _download(table, fmt, f"segment{key}")
