"""Which open cases report the same incident as a new one: scores and reasons. No database here.

Rules (defaults in `Params`, configurable through settings, see README):
- Candidates are open cases registered at most `window_days` before the new report.
- Place is a gate, not only a score: when both reports have coordinates they must be at most
  `radius_m` metres apart; otherwise, when both have an area, the same street (街道) — the same
  grid (网格) counts more; a report without any place is compared by text alone and needs
  `text_alone` text similarity.
- Text: cosine of TF-IDF vectors over the words of the candidates left after the time and place
  gates that share a word with the new report (or may be bridged, below), and the new report (the
  words `cases.search.search_text` stores: jieba for Chinese, lower-cased Latin words; single
  Chinese characters dropped, as the hot-topic clustering does). At least `text_min`.
- Across languages words do not meet, so a report in the same category, both located within
  `radius_m`, is proposed without shared words (the bridge `topics` also uses).
- score = 0.55·text + 0.2·place + 0.1·recency + 0.15·same category, where place is
  1 − distance/radius (0.8 for the same grid, 0.5 for the same street) and recency
  1 − age/window. Proposals need `min_score`; the best `limit` are returned, highest first.
- Each proposal says why: shared words, distance or shared area, age, same category.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

TEXT_WEIGHT, PLACE_WEIGHT, RECENCY_WEIGHT, CATEGORY_WEIGHT = 0.55, 0.2, 0.1, 0.15


@dataclass(frozen=True)
class Report:
    """A case or an intake draft as the comparison sees it."""

    key: str  # the case number ("" for a draft)
    words: str  # space-separated words, as Case.search_text
    at: dt.datetime
    category: str | None = None  # leaf category code
    area_path: str | None = None  # e.g. /city/d1/d1s1/d1s1g1/
    area_level: str | None = None  # district / street / grid
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Params:
    window_days: float = 7.0
    radius_m: float = 500.0
    text_min: float = 0.2
    text_alone: float = 0.5
    min_score: float = 0.3
    limit: int = 5


@dataclass(frozen=True)
class Reason:
    """One ground of a proposal: kind is words / distance / same_grid / same_street / age / category."""

    kind: str
    value: float | str = ""
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Proposal:
    key: str
    score: float
    text: float
    reasons: tuple[Reason, ...] = field(default_factory=tuple)


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(min(1.0, max(0.0, a))))


def street_path(path: str | None, level: str | None) -> str | None:
    """The path of the street an area lies in (the area itself for a street), else None."""
    if not path or level not in ("street", "grid"):
        return None
    if level == "street":
        return path
    return path[: path.rstrip("/").rfind("/") + 1]


def _tokens(words: str) -> list[str]:
    return [w for w in words.split() if len(w) > 1 or w.isascii()]


def _text_similarity(new: Report, others: Sequence[Report]) -> tuple[list[float], list[tuple[str, ...]]]:
    """Cosine of the new report to each other report, and the words they share (strongest first)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [new.words, *(o.words for o in others)]
    vec = TfidfVectorizer(analyzer=_tokens, sublinear_tf=True)
    try:
        matrix = vec.fit_transform(texts).tocsr()
    except ValueError:  # no words at all
        return [0.0] * len(others), [()] * len(others)
    vocabulary = vec.get_feature_names_out()
    first = matrix[0]
    sims = (matrix[1:] @ first.T).toarray().ravel().tolist()
    new_cols = dict(zip(first.indices.tolist(), first.data.tolist(), strict=True))
    shared: list[tuple[str, ...]] = []
    for i in range(len(others)):
        row = matrix[i + 1]
        common = [(new_cols[c] * v, c) for c, v in zip(row.indices.tolist(), row.data.tolist(), strict=True)
                  if c in new_cols]
        common.sort(reverse=True)
        shared.append(tuple(str(vocabulary[c]) for _w, c in common[:5]))
    return sims, shared


def _place(new: Report, other: Report, p: Params) -> tuple[bool, float, Reason | None, bool]:
    """(compatible, place score, reason, both located within the radius)."""
    if None not in (new.lat, new.lon, other.lat, other.lon):
        d = metres(new.lat, new.lon, other.lat, other.lon)
        if d > p.radius_m:
            return False, 0.0, None, False
        return True, 1 - d / p.radius_m, Reason("distance", round(d)), True
    if new.area_path and other.area_path:
        if new.area_path == other.area_path and new.area_level == "grid":
            return True, 0.8, Reason("same_grid", new.area_path), False
        street = street_path(new.area_path, new.area_level)
        if street and street == street_path(other.area_path, other.area_level):
            return True, 0.5, Reason("same_street", street), False
        return False, 0.0, None, False
    return True, 0.0, None, False  # no place on one side: text alone decides


def propose(new: Report, candidates: Sequence[Report], params: Params | None = None) -> list[Proposal]:
    """The candidates that may report the same incident as `new`, best first."""
    p = params or Params()
    window = dt.timedelta(days=p.window_days)
    # Cheap gates first (time, place, a shared word or the same-category bridge), TF-IDF on the rest.
    mine = set(_tokens(new.words))
    pool, places = [], []
    for c in candidates:
        if c.key == new.key or abs(new.at - c.at) > window:
            continue
        compatible, place, place_reason, near = _place(new, c, p)
        same_category = bool(new.category) and new.category == c.category
        if compatible and ((near and same_category) or not mine.isdisjoint(_tokens(c.words))):
            pool.append(c)
            places.append((place, place_reason, near))
    if not pool:
        return []
    sims, shared = _text_similarity(new, pool)
    out: list[Proposal] = []
    for other, text, words, (place, place_reason, near) in zip(pool, sims, shared, places, strict=True):
        same_category = bool(new.category) and new.category == other.category
        # A located pair needs some shared words (or the cross-language bridge); an unplaced one, many.
        wanted = (text >= p.text_min or (same_category and near)) if place_reason else text >= p.text_alone
        if not wanted:
            continue
        age = abs(new.at - other.at)
        recency = max(0.0, 1 - age / window)
        score = (TEXT_WEIGHT * text + PLACE_WEIGHT * place + RECENCY_WEIGHT * recency
                 + CATEGORY_WEIGHT * same_category)
        if score < p.min_score:
            continue
        reasons = []
        if words:
            reasons.append(Reason("words", round(text, 2), words))
        if place_reason:
            reasons.append(place_reason)
        reasons.append(Reason("age", round(age.total_seconds() / 3600, 1)))
        if same_category:
            reasons.append(Reason("category", other.category or ""))
        out.append(Proposal(other.key, round(score, 3), round(text, 3), tuple(reasons)))
    out.sort(key=lambda x: (-x.score, x.key))
    return out[: p.limit]
