"""Hotspots: DBSCAN clusters of located cases (scikit-learn), for the dashboards' map.

Rules:
- The points are counted cases (merged and withdrawn left out) with coordinates, narrowed by the
  dashboards' filters (period, unit subtree, category at any level, area subtree). Coordinates
  come from the warehouse, rounded to 4 decimals (about 10 m), so cases at one spot are one point
  with a weight: DBSCAN's `sample_weight`. A spot with `min_samples` cases is a core point on its own.
- Distance is the great-circle (haversine) distance on a sphere of the Earth's mean radius;
  `eps` is given in metres. A cluster is a DBSCAN cluster; cases that belong to none are noise
  and are not listed.
- A cluster's centre is the case-weighted mean of its points, its radius the largest distance of
  one of its cases from that centre; its main area is the community grid (else street, district)
  holding most of its cases, its main categories the leaf categories with most cases (ties by
  code). Clusters are listed by size (cases), then by the centre's coordinates, so the order is
  stable.
- At most MAX_POINTS distinct spots are clustered (the most recent first); the result says when
  the filters selected more, so the page can say the clusters are of a sample.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import metrics

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
EPS_M = (10, 2_000)  # the eps values accepted, in metres (a wider one makes neighbourhoods huge)
MIN_SAMPLES = (2, 1_000)
DEFAULT_EPS_M = 250
DEFAULT_MIN_SAMPLES = 5
MAX_POINTS = 50_000  # about a second of DBSCAN on a quiet core (haversine ball tree)


@dataclass
class Cluster:
    label: int
    cases: int
    lat: float
    lon: float
    radius_m: float
    area: dict | None  # {key, code, name_zh, name_en}
    categories: list[dict]  # [{key, code, name_zh, name_en, cases}], most cases first


@dataclass
class Result:
    clusters: list[Cluster] = field(default_factory=list)
    points: int = 0  # located cases considered
    noise: int = 0  # of those, in no cluster
    truncated: bool = False


def haversine_m(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres (numpy arrays or floats, degrees)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def dbscan_labels(lat: np.ndarray, lon: np.ndarray, weight: np.ndarray, *, eps_m: float,
                  min_samples: int) -> np.ndarray:
    """DBSCAN labels (-1: noise) of weighted points, haversine distance, eps in metres."""
    from sklearn.cluster import DBSCAN

    if len(lat) == 0:
        return np.zeros(0, dtype=int)
    coords = np.radians(np.column_stack([lat, lon]))
    model = DBSCAN(eps=eps_m / EARTH_RADIUS_M, min_samples=min_samples, metric="haversine",
                   algorithm="ball_tree")
    return model.fit(coords, sample_weight=weight).labels_


def clusters(con, *, eps_m: float = DEFAULT_EPS_M, min_samples: int = DEFAULT_MIN_SAMPLES, months=None,
             unit_path=None, category_key=None, area_path=None, max_points: int = MAX_POINTS) -> Result:
    """The DBSCAN clusters of the located cases selected by the filters (see the module's rules)."""
    if not EPS_M[0] <= eps_m <= EPS_M[1] or not MIN_SAMPLES[0] <= min_samples <= MIN_SAMPLES[1]:
        raise metrics.MetricsError("eps or min_samples out of range")
    joins, where, params = metrics._filter_sql(months=months, unit_path=unit_path, category_key=category_key,
                                               area_path=area_path)
    # One row per spot, category and area; the spots are ranked by their latest case.
    rows = con.execute(f"""
        WITH r AS (
            SELECT f.lat, f.lon, f.category_key, f.area_key, count(*) AS n, max(f.registered_at) AS last
            FROM fact_case f {joins}
            WHERE {where} AND f.lat IS NOT NULL AND f.lon IS NOT NULL
            GROUP BY ALL
        ), spots AS (
            SELECT lat, lon, row_number() OVER (ORDER BY max(last) DESC, lat, lon) AS rn
            FROM r GROUP BY lat, lon
        )
        SELECT r.lat, r.lon, r.category_key, r.area_key, r.n, s.rn
        FROM r JOIN spots s USING (lat, lon) WHERE s.rn <= {int(max_points) + 1}
        ORDER BY s.rn, r.category_key, r.area_key
    """, params).fetchall()
    result = Result()
    if not rows:
        return result
    data = np.array([(r[0], r[1], r[4], r[5]) for r in rows], dtype=float)
    if data[:, 3].max() > max_points:
        result.truncated = True
        keep = data[:, 3] <= max_points
        rows = [r for r, k in zip(rows, keep, strict=True) if k]
        data = data[keep]
    spot_index = data[:, 3].astype(int) - 1  # rn is 1-based and dense over spots
    n_spots = int(spot_index.max()) + 1
    weight = np.bincount(spot_index, weights=data[:, 2], minlength=n_spots)
    lat = np.zeros(n_spots)
    lon = np.zeros(n_spots)
    lat[spot_index], lon[spot_index] = data[:, 0], data[:, 1]
    labels = dbscan_labels(lat, lon, weight, eps_m=eps_m, min_samples=min_samples)
    result.points = int(weight.sum())
    result.noise = int(weight[labels == -1].sum())
    names = _names(con)
    row_labels = labels[spot_index]
    cats: dict[int, Counter] = {}
    areas: dict[int, Counter] = {}
    for row, label in zip(rows, row_labels.tolist(), strict=True):
        if label != -1:
            cats.setdefault(label, Counter())[row[2]] += row[4]
            areas.setdefault(label, Counter())[row[3]] += row[4]
    found = []
    for label in sorted(set(labels.tolist()) - {-1}):
        members = labels == label
        w = weight[members]
        c_lat = float(np.average(lat[members], weights=w))
        c_lon = float(np.average(lon[members], weights=w))
        radius = float(haversine_m(c_lat, c_lon, lat[members], lon[members]).max())
        unknown = {"code": "", "name_zh": "", "name_en": ""}
        ranked = sorted(cats[label].items(),
                        key=lambda kv: (-kv[1], names["category"].get(kv[0], unknown)["code"]))
        found.append(Cluster(
            label=label, cases=int(w.sum()), lat=round(c_lat, 5), lon=round(c_lon, 5), radius_m=round(radius),
            area=_main_area(areas[label], names["area"]),
            categories=[{"key": k, **{f: names["category"].get(k, unknown)[f] for f in unknown}, "cases": n}
                        for k, n in ranked]))
    found.sort(key=lambda c: (-c.cases, c.lat, c.lon))
    result.clusters = found
    return result


def _names(con) -> dict[str, dict]:
    cats = {k: {"key": k, "code": code, "name_zh": zh, "name_en": en} for k, code, zh, en in con.execute(
        "SELECT category_key, code, name_zh, name_en FROM dim_category").fetchall()}
    areas = {k: {"key": k, "code": code, "name_zh": zh, "name_en": en, "level": lv, "parents": (g, s, d)}
             for k, code, zh, en, lv, g, s, d in con.execute(
                 "SELECT area_key, code, name_zh, name_en, level, grid_key, street_key, district_key "
                 "FROM dim_area").fetchall()}
    return {"category": cats, "area": areas}


def _main_area(counts: Counter, areas: dict[int, dict]) -> dict | None:
    """The community grid with most of the cluster's cases (else the street, else the district):
    cases placed only at a coarser level count for that level."""
    for depth in range(3):  # grid, street, district
        at_level: Counter = Counter()
        for key, n in counts.items():
            area = areas.get(key)
            if area and area["parents"][depth] is not None:
                at_level[area["parents"][depth]] += n
        if at_level:
            best = sorted(at_level.items(), key=lambda kv: (-kv[1], areas[kv[0]]["code"]))[0][0]
            a = areas[best]
            return {"key": a["key"], "code": a["code"], "name_zh": a["name_zh"], "name_en": a["name_en"]}
    return None

