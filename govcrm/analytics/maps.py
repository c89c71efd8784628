"""Reads of the map dashboard: areas coloured by requests per 10,000 residents, and the DBSCAN
clusters of located cases (hotspots.py) drawn on them, for the caller's scope and filters.

Rules:
- The areas are those of the chosen level (district, street, community grid) inside the area
  filter; an area filter below the chosen level shows that area alone, at its own level (a
  district's rate over one street's cases would mean nothing).
- Boundaries come from a GeoJSON file served as a static file (settings.GOVCRM_AREAS_GEOJSON, a
  static path; default the demo city's `demo/areas.geojson`), whose features carry the area's
  `code`. The page draws it with ECharts' registerMap: no tiles, nothing from the internet.
- The clusters table lists every cluster, largest first, with its main area and categories and a
  link to the console's search for the cases of its main area and main category (the console
  search has no search by distance).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _

from . import hotspots, metrics
from .queries import Filters, Table, _name

MAP_LEVELS = ("district", "street", "grid")
DEFAULT_GEOJSON = "demo/areas.geojson"
TOP_CATEGORIES = 3


def map_levels() -> list[tuple[str, str]]:
    return [("district", _("District")), ("street", _("Street / town")), ("grid", _("Community grid"))]


def effective_level(level: str, f: Filters) -> str:
    if f.area and f.area["level"] in MAP_LEVELS and MAP_LEVELS.index(f.area["level"]) > MAP_LEVELS.index(level):
        return f.area["level"]
    return level


def geojson_url() -> str:
    return static(getattr(settings, "GOVCRM_AREAS_GEOJSON", DEFAULT_GEOJSON))


def area_map(con, scope: str | None, f: Filters, *, level: str = "street", eps_m: int = hotspots.DEFAULT_EPS_M,
             min_samples: int = hotspots.DEFAULT_MIN_SAMPLES, as_of: dt.datetime | None = None) -> dict:
    if level not in MAP_LEVELS:
        raise metrics.MetricsError("unknown area level")
    level = effective_level(level, f)
    narrowing = f.narrowing(scope)
    areas = metrics.requests_per_10k_by_area(con, level, **narrowing)
    table = Table("areas", _("Requests per 10,000 residents by area"),
                  [_("Area"), _("Code"), _("Population"), _("Cases"), _("Per 10,000 residents"),
                   _("95%% interval, low") % {}, _("95%% interval, high") % {}], [])
    for a in areas:
        table.rows.append([_name(a["name_zh"], a["name_en"]), a["code"], a["population"], a["cases"],
                           _r2(a["per_10k"]), _r2(a["low"]), _r2(a["high"])])
    found = hotspots.clusters(con, eps_m=eps_m, min_samples=min_samples, **narrowing)
    clusters = Table("clusters", _("Clusters of located cases (DBSCAN, %(eps)s m, at least %(min)s cases)")
                     % {"eps": eps_m, "min": min_samples},
                     [_("Cluster"), _("Cases"), _("Latitude"), _("Longitude"), _("Radius (m)"), _("Main area"),
                      _("Main categories")], [], link_column=1)
    search = reverse("console:search")
    for i, c in enumerate(found.clusters, start=1):
        cats = c.categories[:TOP_CATEGORIES]
        clusters.rows.append([i, c.cases, c.lat, c.lon, c.radius_m,
                              _name(c.area["name_zh"], c.area["name_en"]) if c.area else None,
                              "; ".join(f"{_name(x['name_zh'], x['name_en'])} ({x['cases']})" for x in cats)])
        query = {k: v for k, v in (("area", c.area["code"] if c.area else ""),
                                   ("category", cats[0]["code"] if cats else "")) if v}
        clusters.links.append(f"{search}?{urlencode(query)}")
    chart = {
        "kind": "map", "geojson": geojson_url(), "level": level,
        "name": _("Per 10,000 residents"),
        # a click on an area shows the areas under it (the area filter, one level down)
        "drillLevel": MAP_LEVELS[min(MAP_LEVELS.index(level) + 1, len(MAP_LEVELS) - 1)],
        "areas": [{"name": r[1], "label": r[0], "value": r[4], "cases": r[3], "key": a["area_key"]}
                  for r, a in zip(table.rows, areas, strict=True)],
        "clusters": {"name": _("Clusters"),
                     "data": [{"name": _("Cluster %(n)s") % {"n": r[0]}, "value": [r[3], r[2], r[1]], "url": link}
                              for r, link in zip(clusters.rows, clusters.links, strict=True)]},
        "casesLabel": _("Cases"),
    }
    return {"tables": {"areas": table, "clusters": clusters}, "charts": {"map": chart}, "level": level,
            "clustering": found}


def _r2(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
