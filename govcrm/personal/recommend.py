"""Which public services to suggest to a citizen: item-item co-occurrence with a popularity fallback.

Pure Python on plain data (no database), so that the portal, the console, the tests and the
offline benchmark (`bench/recommend.py`) all run the same code.

Rules:
- A *history* is the set of service codes a citizen has applied for (any status: an application
  that was refused still tells what the citizen needed). Order does not matter to the model.
- Similarity of two services i, j is the cosine of their citizen sets, shrunk towards 0 when few
  citizens share them: sim(i, j) = c_ij / sqrt(c_i · c_j) · c_ij / (c_ij + λ), λ = `shrinkage`.
  A pair seen by one or two citizens (noise) thus counts little, however high its raw cosine.
  Pairs seen by fewer than `min_support` citizens are dropped.
- A candidate's score is the sum of its similarities to the items of the history; its *reason*
  is the history item that contributed most ("people who applied for X also applied for Y").
- Items in `exclude` (in progress, or otherwise not to be offered) and items not `eligible` are
  never returned; the history itself is not offered again unless `repeatable` says the service
  is one that is applied for again (a renewal).
- Cold start: when co-occurrence finds fewer than k items, the rest are filled with the most
  popular eligible items (citizen counts), with the reason "popular".
- Profile boost: `boost[item]` (from the citizen's age, kind, district and past cases; see
  `profile.py`) multiplies a co-occurrence score by (1 + boost) and orders the popularity fill
  by popularity · (1 + boost). Ties break by item code, so results are deterministic.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

COOCCURRENCE = "cooccurrence"
POPULAR = "popular"
PROFILE = "profile"


@dataclass(frozen=True)
class Recommendation:
    item: str
    score: float
    reason: str  # COOCCURRENCE, PROFILE or POPULAR
    because: str | None = None  # the history item behind a co-occurrence recommendation


class Popularity:
    """Items ordered by how many citizens used them."""

    def __init__(self, histories: Iterable[Iterable[str]]) -> None:
        self.count: Counter[str] = Counter()
        for history in histories:
            self.count.update(set(history))
        self.ranked = sorted(self.count, key=lambda i: (-self.count[i], i))

    def recommend(self, history: Iterable[str] = (), *, k: int = 5, exclude: Iterable[str] = (),
                  eligible=None, boost: Mapping[str, float] | None = None) -> list[Recommendation]:
        skip = set(history) | set(exclude)
        boost = boost or {}
        ranked = self.ranked
        if boost:
            ranked = sorted(self.ranked, key=lambda i: (-self.count[i] * (1 + boost.get(i, 0.0)), i))
        out = []
        for item in ranked:
            if item in skip or (eligible is not None and not eligible(item)):
                continue
            reason = PROFILE if boost.get(item, 0.0) > 0 else POPULAR
            out.append(Recommendation(item, float(self.count[item]), reason))
            if len(out) == k:
                break
        return out


class Cooccurrence:
    """Item-item similarities from citizens' histories (cosine with shrinkage)."""

    def __init__(self, histories: Iterable[Iterable[str]], *, shrinkage: float = 5.0, min_support: int = 2) -> None:
        self.shrinkage, self.min_support = shrinkage, min_support
        count: Counter[str] = Counter()
        pairs: Counter[tuple[str, str]] = Counter()
        histories = [sorted(set(h)) for h in histories]
        for items in histories:
            count.update(items)
            for a_index, a in enumerate(items):
                for b in items[a_index + 1:]:
                    pairs[(a, b)] += 1
        self.popularity = Popularity(histories)
        self.count = count
        self.neighbours: dict[str, dict[str, float]] = defaultdict(dict)
        for (a, b), c in pairs.items():
            if c < min_support:
                continue
            sim = c / math.sqrt(count[a] * count[b]) * c / (c + shrinkage)
            self.neighbours[a][b] = sim
            self.neighbours[b][a] = sim

    def similarity(self, a: str, b: str) -> float:
        return self.neighbours.get(a, {}).get(b, 0.0)

    def recommend(self, history: Iterable[str], *, k: int = 5, exclude: Iterable[str] = (), eligible=None,
                  boost: Mapping[str, float] | None = None, repeatable: Iterable[str] = (),
                  fill: bool = True) -> list[Recommendation]:
        history = set(history)
        skip = (history - set(repeatable)) | set(exclude)
        boost = boost or {}
        scores: dict[str, float] = defaultdict(float)
        best: dict[str, tuple[float, str]] = {}
        for h in sorted(history):
            for item, sim in self.neighbours.get(h, {}).items():
                if item in skip or (eligible is not None and not eligible(item)):
                    continue
                scores[item] += sim
                if item not in best or sim > best[item][0]:
                    best[item] = (sim, h)
        ranked = sorted(scores, key=lambda i: (-scores[i] * (1 + boost.get(i, 0.0)), i))[:k]
        out = [Recommendation(i, scores[i] * (1 + boost.get(i, 0.0)), COOCCURRENCE, best[i][1]) for i in ranked]
        if fill and len(out) < k:
            taken = {r.item for r in out}
            out += self.popularity.recommend(history - set(repeatable), k=k - len(out),
                                             exclude=skip | taken, eligible=eligible, boost=boost)
        return out
