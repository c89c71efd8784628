"""The demo city's area boundaries as GeoJSON, for the dashboards' map (no map tiles, no internet).

`python -m govcrm.demo.geo` writes `govcrm/demo/static/demo/areas.geojson`, the committed file
the dashboards load (a test checks that the file is what this module generates).

Rules:
- One polygon per district, street/town and community grid of `city.PLACES`, built from its
  bounding box, the box that the demo's case coordinates are drawn from (`build._place`).
- Boxes tile the city exactly; to look like real boundaries rather than a chessboard, every
  vertex is moved by one smooth, small warp of the plane (at most WARP degrees, about 150 m).
  A vertex is moved the same way in every polygon that has it, and every edge carries every
  corner of any other box lying on it plus points every STEP degrees, so neighbours still
  share their boundary exactly and a district is exactly the union of its streets and grids.
  A case less than WARP from a boundary may therefore be drawn just across it.
- Features carry `code` (the area's code, the key the dashboards colour by), `name_zh`,
  `name_en`, `level` and `parent`; coordinates are [longitude, latitude] (RFC 7946), 5 decimals.
"""

from __future__ import annotations

import json
import math
import sys
from itertools import pairwise
from pathlib import Path

from .city import PLACES

WARP = 0.0014
STEP = 0.004
OUT = Path(__file__).parent / "static" / "demo" / "areas.geojson"
LEVELS = ("district", "street", "grid")


def _r(v: float) -> float:
    return round(v, 9)


def warp(lon: float, lat: float) -> tuple[float, float]:
    """The plane's warp: smooth waves of a few kilometres, amplitude at most WARP degrees."""
    dx = 0.6 * math.sin(2 * math.pi * lat / 0.031 + 1.3) + 0.4 * math.sin(2 * math.pi * (lon / 0.047 + lat / 0.053))
    dy = 0.6 * math.sin(2 * math.pi * lon / 0.029 + 0.7) + 0.4 * math.sin(2 * math.pi * (lat / 0.043 - lon / 0.061))
    return lon + WARP * dx, lat + WARP * dy


def _breaks(a: float, b: float, extra: set[float]) -> list[float]:
    """Points from a to b (either direction): the lattice every STEP and the given corners."""
    lo, hi = min(a, b), max(a, b)
    pts = {_r(lo), _r(hi)}
    k = math.floor(lo / STEP) + 1
    while k * STEP < hi - 1e-9:
        pts.add(_r(k * STEP))
        k += 1
    pts |= {v for v in extra if lo < v < hi}
    return sorted(pts, reverse=a > b)


def _ring(box, corners_on_lat: dict[float, set[float]], corners_on_lon: dict[float, set[float]]) -> list[list[float]]:
    s, w, n, e = (_r(v) for v in box)
    pts: list[tuple[float, float]] = []
    # counter-clockwise (RFC 7946 exterior ring): south edge west→east, east edge south→north, …
    pts += [(x, s) for x in _breaks(w, e, corners_on_lat.get(s, set()))[:-1]]
    pts += [(e, y) for y in _breaks(s, n, corners_on_lon.get(e, set()))[:-1]]
    pts += [(x, n) for x in _breaks(e, w, corners_on_lat.get(n, set()))[:-1]]
    pts += [(w, y) for y in _breaks(n, s, corners_on_lon.get(w, set()))[:-1]]
    ring = [[round(c, 5) for c in warp(x, y)] for x, y in pts]
    return [*ring, ring[0]]


def city_geojson() -> dict:
    places = [p for p in PLACES if p.level in LEVELS]
    on_lat: dict[float, set[float]] = {}
    on_lon: dict[float, set[float]] = {}
    for p in places:
        s, w, n, e = (_r(v) for v in p.box)
        for lat in (s, n):
            on_lat.setdefault(lat, set()).update((w, e))
        for lon in (w, e):
            on_lon.setdefault(lon, set()).update((s, n))
    features = [{
        "type": "Feature",
        "properties": {"code": p.code, "name_zh": p.name_zh, "name_en": p.name_en, "level": str(p.level),
                       "parent": p.parent},
        "geometry": {"type": "Polygon", "coordinates": [_ring(p.box, on_lat, on_lon)]},
    } for p in places]
    return {"type": "FeatureCollection", "features": features}


def dumps() -> str:
    return json.dumps(city_geojson(), ensure_ascii=False, separators=(",", ":")) + "\n"


def contains(ring: list[list[float]], lon: float, lat: float) -> bool:
    """Point in polygon (ray casting) on [lon, lat] pairs."""
    inside = False
    for (x1, y1), (x2, y2) in pairwise(ring):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(dumps(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)\n")
