"""The demo city's GeoJSON: the committed file is what geo.py generates, every area has a polygon
holding its cases' coordinates, and neighbours share their boundaries."""

from __future__ import annotations

import json
import random

from govcrm.demo import geo
from govcrm.demo.build import compound_spot
from govcrm.demo.city import GRIDS, PLACES


def _rings():
    return {f["properties"]["code"]: f["geometry"]["coordinates"][0] for f in geo.city_geojson()["features"]}


def test_the_committed_file_is_the_generated_one():
    assert geo.OUT.read_text(encoding="utf-8") == geo.dumps()
    data = json.loads(geo.OUT.read_text(encoding="utf-8"))
    levels = [f["properties"]["level"] for f in data["features"]]
    assert levels.count("district") == 6 and levels.count("street") == 24 and levels.count("grid") == 84
    assert all(f["properties"]["name_zh"] and f["properties"]["name_en"] for f in data["features"])


def test_polygons_hold_the_coordinates_the_demo_draws():
    rings = _rings()
    rng = random.Random(7)
    inside = total = 0
    for g in GRIDS:
        ring = rings[g.place.code]
        assert ring[0] == ring[-1]
        s, w, n, e = g.place.box
        assert geo.contains(ring, (w + e) / 2, (s + n) / 2)
        assert geo.contains(rings[g.street.code], (w + e) / 2, (s + n) / 2)
        assert not geo.contains(rings[g.street.code], w - 0.01, s - 0.01)
        for k in range(len(g.compounds)):  # every case of a compound lies inside its grid
            for u, v in ((0, 0), (0, 1), (1, 0), (1, 1), (0.5, 0.5)):
                lat, lon = compound_spot(g.place, k, u, v)
                assert geo.contains(ring, lon, lat), (g.place.code, k, u, v)
        for _ in range(100):  # uniform points: all but those within the warp of an edge
            lat, lon = s + (n - s) * rng.random(), w + (e - w) * rng.random()
            total += 1
            inside += geo.contains(ring, lon, lat)
    assert inside / total > 0.9


def test_neighbours_share_their_boundary_exactly():
    """Every vertex of a grid lies on its street's boundary or inside it, and the vertices that two
    grids of one street share appear in both: no slivers, no gaps."""
    rings = _rings()
    vertices = {code: {tuple(p) for p in ring} for code, ring in rings.items()}
    for place in PLACES:
        if place.level != "street":
            continue
        grids = [p.code for p in PLACES if p.parent == place.code]
        outer = vertices[place.code]
        # the street's own vertices are exactly the grids' vertices that only one grid has
        counts: dict = {}
        for code in grids:
            for v in vertices[code]:
                counts[v] = counts.get(v, 0) + 1
        assert outer <= set(counts)
        assert {v for v, c in counts.items() if c == 1} <= outer
