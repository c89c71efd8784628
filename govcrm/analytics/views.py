"""The dashboards at /dashboards/ (console pages, GET only; see queries.py for who sees what).

- `overview` — cases per month, the three rates' trend and the channel mix, for a period
  (`from`, `to`: YYYY-MM), a unit (`unit`: its warehouse key) and a category (`category`).
- `rankings` — one month's (`month`) ranking of units of a level (`level`) by a rate (`rate`) with
  95 % Wilson intervals, under the same unit and category filters.
- `categories` — volumes and the three rates per category of one level of the three-level tree,
  each row a link one level down (`category`).
- `deadlines` — on time, late and overdue per stage (accept, contact, reply), per unit of a level
  (`level`) and per category.
- `channels` — the channel mix: volumes, share and rates per channel, and counts per month.
- `map` — areas of a level (`level`: district, street, grid) coloured by requests per 10,000
  residents, with the DBSCAN clusters of located cases (`eps` in metres, `min_samples`).
Every page takes the period (`from`, `to`; rankings: `month`), `unit`, `category` and `area`.
- `export` — a table of any page as CSV or XLSX (`/dashboards/export/<page>/<table>.<fmt>`,
  with the page's filters): every row, the same numbers as the screen.
Charts are drawn by ECharts (vendored, static/analytics/) from JSON blocks of the page read by
static/analytics/dashboards.js: no inline script, the strict CSP holds. A missing warehouse or
one locked by a refresh gives a page saying so (503), never a 500.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from govcrm.console.access import staff_view

from . import breakdowns, hotspots, maps, queries
from .exports import FORMATS, table_bytes
from .warehouse import WarehouseBusy, WarehouseError

PAGES = {"overview": ("months", "channels"), "rankings": ("ranking",), "categories": ("categories",),
         "deadlines": ("stages", "units", "categories"), "channels": ("channels", "months"),
         "map": ("areas", "clusters")}


def _unavailable(request, err: WarehouseError) -> HttpResponse:
    busy = isinstance(err, WarehouseBusy)
    message = (_("The warehouse is being refreshed right now. Please try again in a moment.") if busy
               else str(err))
    response = render(request, "analytics/unavailable.html", {"message": message}, status=503)
    if busy:
        response["Retry-After"] = "5"
    return response


def _page_data(request, page: str, con, scope):
    opts = queries.options(con, scope)
    if page != "rankings":
        f = queries.filters_parse(request.GET, opts, single_month=False)
    if page == "overview":
        return opts, f, {}, queries.overview(con, scope, f)
    if page == "categories":
        return opts, f, {}, breakdowns.categories(con, scope, f)
    if page == "channels":
        return opts, f, {}, breakdowns.channels(con, scope, f)
    if page == "deadlines":
        level = _choice(request, f, "level", breakdowns.DEADLINE_LEVELS, "street", _("Unknown unit level."))
        return opts, f, {"level": level}, breakdowns.deadlines(con, scope, f, level=level)
    if page == "map":
        level = _choice(request, f, "level", maps.MAP_LEVELS, "street", _("Unknown area level."))
        eps = _number(request, f, "eps", hotspots.EPS_M, hotspots.DEFAULT_EPS_M,
                      _("The cluster distance must be a whole number of metres from %(low)s to %(high)s."))
        min_samples = _number(request, f, "min_samples", hotspots.MIN_SAMPLES, hotspots.DEFAULT_MIN_SAMPLES,
                              _("The minimum cluster size must be a whole number from %(low)s to %(high)s."))
        return opts, f, {"level": level, "eps": eps, "min_samples": min_samples}, maps.area_map(
            con, scope, f, level=level, eps_m=eps, min_samples=min_samples)
    f = queries.filters_parse(request.GET, opts, single_month=True)
    rate = request.GET.get("rate", "satisfaction")
    level = request.GET.get("level", "street")
    if rate not in queries.RANKING_RATES:
        f.errors.append(_("Unknown rate."))
        rate = "satisfaction"
    if level not in queries.RANKING_LEVELS:
        f.errors.append(_("Unknown unit level."))
        level = "street"
    return opts, f, {"rate": rate, "level": level}, queries.ranking(con, scope, f, rate=rate, level=level)


def _choice(request, f, name: str, allowed, default: str, error: str) -> str:
    value = request.GET.get(name, default)
    if value not in allowed:
        f.errors.append(error)
        return default
    return value


def _number(request, f, name: str, bounds: tuple[int, int], default: int, error: str) -> int:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not bounds[0] <= int(raw) <= bounds[1]:
        f.errors.append(error % {"low": bounds[0], "high": bounds[1]})
        return default
    return int(raw)


def _load(request, page: str):
    """(opts, filters, choice, data) of a page for the caller's scope, or the 503 response."""
    scope = queries.dashboard_scope(request.actor)
    try:
        con = queries.open_warehouse()
    except WarehouseError as err:
        return _unavailable(request, err)
    try:
        return _page_data(request, page, con, scope)
    finally:
        con.close()


def _dashboard(request, page: str):
    loaded = _load(request, page)
    if isinstance(loaded, HttpResponse):
        return loaded
    opts, f, choice, data = loaded
    query = {**f.query(), **choice}
    if page == "rankings":
        query.pop("from", None)
        query.pop("to", None)
        if f.start:
            query["month"] = queries.month_label(f.start)
    return render(request, f"analytics/{page}.html", {
        "page": page, "opts": opts, "filters": f, "choice": choice, "data": data, "query": query,
        "tables": list(data["tables"].values()),
        "months": [queries.month_label(m) for m in opts.months],
        "rates": [(c, queries._rate_names()[c]) for c in queries.RANKING_RATES],
        "levels": [(lv, queries.metrics.UNIT_LEVELS[lv]) for lv in queries.RANKING_LEVELS],
        "map_levels": maps.map_levels(), "pages": _tabs(),
    }, status=400 if f.errors else 200)


def _tabs() -> list[tuple[str, str, str]]:
    """(page, url name, label) of the dashboards' tabs."""
    return [("overview", "analytics:overview", _("Overview")), ("rankings", "analytics:rankings", _("Unit rankings")),
            ("categories", "analytics:categories", _("Categories")),
            ("deadlines", "analytics:deadlines", _("Deadlines")), ("channels", "analytics:channels", _("Channels")),
            ("map", "analytics:map", _("Map"))]


@require_GET
@staff_view
def overview(request):
    return _dashboard(request, "overview")


@require_GET
@staff_view
def rankings(request):
    return _dashboard(request, "rankings")


@require_GET
@staff_view
def categories(request):
    return _dashboard(request, "categories")


@require_GET
@staff_view
def deadlines(request):
    return _dashboard(request, "deadlines")


@require_GET
@staff_view
def channels(request):
    return _dashboard(request, "channels")


@require_GET
@staff_view
def area_map(request):
    return _dashboard(request, "map")


@require_GET
@staff_view
def export(request, page: str, table: str, fmt: str):
    if page not in PAGES or table not in PAGES[page] or fmt not in FORMATS:
        raise Http404
    loaded = _load(request, page)
    if isinstance(loaded, HttpResponse):
        return loaded
    _opts, f, _choice, data = loaded
    if f.errors:
        return HttpResponse("\n".join(f.errors), status=400, content_type="text/plain; charset=utf-8")
    t = data["tables"][table]
    period = queries.month_label(f.start) if page == "rankings" else (
        f"{queries.month_label(f.start)}_{queries.month_label(f.end)}" if f.start else "all")
    response = HttpResponse(table_bytes(t, fmt), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="govcrm-{t.name}-{period}.{fmt}"'
    return response
