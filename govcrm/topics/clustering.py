"""Hot topics: group messages that speak of the same matter in the same place. No database here.

Rules:
- A message is its segmented words (`cases.search.terms`: jieba for Chinese, lower-cased Latin
  words), weighted by TF-IDF over the period (sublinear tf, l2-normalised rows; words found in
  more than `max_df` of the messages are dropped, and so are single Chinese characters).
- Two messages may join the same topic only if they are *compatible*:
  * text: cosine similarity of their TF-IDF vectors ≥ `threshold`;
  * place: both located (lat/lon) → at most `radius_m` metres apart; otherwise both with an
    area → the same area; a message without any place is compatible with every place;
  * time: at most `max_gap_days` apart (None: no limit).
- Topics are the clusters of **average linkage** cut at similarity `threshold`, computed inside
  each connected component of the compatibility graph. Average linkage does not chain (a
  topic's messages are on average similar to each other, not only pairwise along a path), and
  because every pair across two components has similarity below `threshold` (or is
  incompatible, taken as similarity 0), the result equals average linkage over the whole period
  with incompatible pairs at distance 1: components only make it fast.
- Words do not cross languages, so a Chinese and an English report of one incident share no
  words. `bridge_languages` joins them all the same when they are the same matter in the same
  place: a group (or lone message) in one language and one in the other are merged when their
  most common category is the same (known, not the unclassified bucket), and some pair of their
  messages is placed (coordinates or area, on both sides: no place bridges nothing) and
  compatible in place and time as above.
- A topic's label is its `label_terms` highest-weighted words of the centroid and its
  representative, the message most similar to the centroid.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import coo_matrix, csr_matrix, hstack
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import squareform

from govcrm.cases import search


@dataclass(frozen=True)
class Doc:
    """One message: its id, its words (space-separated, as `search.search_text` gives them), place, time."""

    key: int | str
    words: str
    title: str = ""  # the words of the title alone (the title also counts within `words`)
    at: dt.datetime | None = None
    area: str | None = None
    lat: float | None = None
    lon: float | None = None
    category: int | str | None = None  # the case's category; None when unknown or unclassified


@dataclass(frozen=True)
class Params:
    threshold: float = 0.2  # cosine similarity: the least average similarity inside a topic
    title_weight: float = 0.5  # share of the title's words in the similarity (the rest: all words)
    radius_m: float = 500.0
    max_gap_days: float | None = 7.0
    max_df: float = 0.5
    min_size: int = 2  # smaller clusters are not topics
    label_terms: int = 5
    bridge_languages: bool = True  # join same-category, same-place groups across Chinese and English

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class Cluster:
    members: list[int]  # indexes into the docs
    terms: list[str]
    representative: int  # index of the doc nearest to the centroid
    similarity: list[float] = field(default_factory=list)  # of each member to the centroid


def words_of(*texts: str) -> str:
    """The words of raw texts, as `Case.search_text` stores them."""
    return search.search_text(*texts)


def _tokens(words: str) -> list[str]:
    # Single Chinese characters (的, 路, 灯 as leftovers of search mode) carry little meaning.
    return [w for w in words.split() if len(w) > 1 or w.isascii()]


def _tfidf(texts: list[str], max_df: float) -> tuple[csr_matrix, np.ndarray]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer=_tokens, sublinear_tf=True, max_df=max_df if len(texts) >= 20 else 1.0)
    try:
        return vec.fit_transform(texts).tocsr(), vec.get_feature_names_out()
    except ValueError:  # no words at all
        return csr_matrix((len(texts), 0)), np.array([], dtype=object)


def _vectorise(docs: Sequence[Doc], p: Params) -> tuple[csr_matrix, csr_matrix, np.ndarray]:
    """(vectors compared, with the title's share; vectors of all words for labels; their words)."""
    from sklearn.preprocessing import normalize

    body, vocabulary = _tfidf([d.words for d in docs], p.max_df)
    if p.title_weight <= 0 or not any(d.title for d in docs):
        return body, body, vocabulary
    title, _words = _tfidf([d.title for d in docs], p.max_df)
    both = hstack([math.sqrt(p.title_weight) * title, math.sqrt(1 - p.title_weight) * body]).tocsr()
    return normalize(both), body, vocabulary


def _metres(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Haversine distance in metres (vectorised)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6_371_000 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


@dataclass(frozen=True)
class _Places:
    """Place and time of every message as arrays, made once per clustering (not once per pair test:
    `_bridge` tests many group pairs, and rebuilding these for all messages each time made a run
    over a month of a large city's messages take minutes)."""

    lat: np.ndarray
    lon: np.ndarray
    area: np.ndarray
    t: np.ndarray

    @classmethod
    def of(cls, docs: Sequence[Doc]) -> _Places:
        return cls(
            lat=np.array([d.lat if d.lat is not None else np.nan for d in docs], dtype=float),
            lon=np.array([d.lon if d.lon is not None else np.nan for d in docs], dtype=float),
            area=np.array([d.area or "" for d in docs], dtype=object),
            t=np.array([d.at.timestamp() if d.at else np.nan for d in docs], dtype=float),
        )


def _compatible(places: _Places, rows: np.ndarray, cols: np.ndarray, p: Params) -> np.ndarray:
    """For each candidate pair (rows[i], cols[i]), whether place and time allow them together."""
    ok = np.ones(len(rows), dtype=bool)
    if len(rows) == 0:
        return ok
    lat, lon, area = places.lat, places.lon, places.area
    located = ~np.isnan(lat[rows]) & ~np.isnan(lat[cols])
    if located.any():
        far = _metres(lat[rows][located], lon[rows][located], lat[cols][located], lon[cols][located]) > p.radius_m
        ok[np.flatnonzero(located)[far]] = False
    both_area = ~located & (area[rows] != "") & (area[cols] != "")
    ok &= ~(both_area & (area[rows] != area[cols]))
    if p.max_gap_days is not None:
        gap = np.abs(places.t[rows] - places.t[cols]) / 86400
        ok &= ~(gap > p.max_gap_days)  # NaN (no time) stays compatible
    return ok


def cluster(docs: Sequence[Doc], params: Params | None = None) -> list[Cluster]:
    """Topics among `docs`, largest first (clusters of at least `min_size` messages)."""
    p = params or Params()
    n = len(docs)
    if n == 0:
        return []
    x, body, vocabulary = _vectorise(docs, p)
    if body.shape[1] == 0:
        return []
    sim = (x @ x.T).tocoo()
    keep = (sim.row < sim.col) & (sim.data >= p.threshold)
    rows, cols, vals = sim.row[keep], sim.col[keep], sim.data[keep]
    places = _Places.of(docs)
    ok = _compatible(places, rows, cols, p)
    rows, cols, vals = rows[ok], cols[ok], vals[ok]
    graph = coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    graph = (graph + graph.T).tocsr()  # symmetric, compatible pairs above the threshold only
    n_comp, comp_of = connected_components(graph, directed=False)
    groups: list[list[int]] = []
    for members in _components(comp_of, n_comp):
        if len(members) <= 2:
            groups.append(members)
            continue
        groups.extend(_average_linkage(members, graph, p.threshold))
    if p.bridge_languages:
        groups = _bridge(docs, places, groups, p)
    out = [_describe(body, vocabulary, g, p) for g in groups if len(g) >= p.min_size]
    out.sort(key=lambda c: (-len(c.members), c.members[0]))
    return out


def _language(doc: Doc) -> str:
    """"latin" when most of a message's words are Latin-script, else "cjk"."""
    words = doc.words.split()
    return "latin" if words and sum(w.isascii() for w in words) * 2 > len(words) else "cjk"


def _bridge(docs: Sequence[Doc], places: _Places, groups: list[list[int]], p: Params) -> list[list[int]]:
    """Merge groups of different languages that share their category and a compatible placed pair."""
    from collections import Counter

    def placed(i: int) -> bool:
        return docs[i].lat is not None or bool(docs[i].area)

    by_category: dict[object, list[int]] = {}
    language = []
    for g, members in enumerate(groups):
        langs = Counter(_language(docs[i]) for i in members)
        language.append(langs.most_common(1)[0][0])
        cats = Counter(docs[i].category for i in members if docs[i].category is not None)
        if cats and any(placed(i) for i in members):
            by_category.setdefault(cats.most_common(1)[0][0], []).append(g)
    parent = list(range(len(groups)))

    def root(g: int) -> int:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    for candidates in by_category.values():
        for a_pos, a in enumerate(candidates):
            for b in candidates[a_pos + 1:]:
                if language[a] == language[b] or root(a) == root(b):
                    continue
                pairs = [(i, j) for i in groups[a] if placed(i) for j in groups[b] if placed(j)]
                rows = np.array([i for i, _j in pairs], dtype=int)
                cols = np.array([j for _i, j in pairs], dtype=int)
                if len(pairs) and _compatible(places, rows, cols, p).any():
                    parent[root(b)] = root(a)
    merged: dict[int, list[int]] = {}
    for g, members in enumerate(groups):
        merged.setdefault(root(g), []).extend(members)
    return [sorted(m) for m in merged.values()]


def _components(comp_of: np.ndarray, n_comp: int) -> list[list[int]]:
    order = np.argsort(comp_of, kind="stable")
    bounds = np.searchsorted(comp_of[order], np.arange(n_comp + 1))
    return [order[bounds[i]:bounds[i + 1]].tolist() for i in range(n_comp)]


def _average_linkage(members: list[int], graph: csr_matrix, threshold: float) -> list[list[int]]:
    """Average-linkage clusters of one component: similarity of incompatible pairs counts as 0."""
    sub = graph[members][:, members].toarray()
    dist = np.clip(1.0 - sub, 0.0, 1.0)
    np.fill_diagonal(dist, 0.0)
    z = linkage(squareform(dist, checks=False), method="average")
    labels = fcluster(z, t=1.0 - threshold + 1e-9, criterion="distance")
    out: dict[int, list[int]] = {}
    for idx, label in zip(members, labels, strict=True):
        out.setdefault(int(label), []).append(idx)
    return list(out.values())


def _describe(x: csr_matrix, vocabulary: np.ndarray, members: list[int], p: Params) -> Cluster:
    rows = x[members]
    centroid = np.asarray(rows.mean(axis=0)).ravel()
    top = np.argsort(-centroid, kind="stable")[: p.label_terms]
    terms = [str(vocabulary[i]) for i in top if centroid[i] > 0]
    norm = math.sqrt(float(centroid @ centroid)) or 1.0
    sims = np.asarray(rows @ centroid).ravel() / norm
    best = int(np.argmax(sims))
    return Cluster(members=list(members), terms=terms, representative=members[best],
                   similarity=[round(float(s), 4) for s in sims])
