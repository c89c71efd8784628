"""Knowledge search: jieba terms in each database's own index, ranked with BM25F in Python.

Rules:
- Text is segmented like cases (`cases.search`, ADR 0004): jieba's search mode, lower-cased
  Latin words, digits, CJK ideographs, the same function words dropped, plus a few words that
  only phrase a question (请问, 怎么, how, can…). Latin words are then stemmed with Snowball's
  English stemmer ("fees" and "fee" meet). Unlike cases, the repeats are kept for ranking.
- Candidates are the valid published versions containing **any** query term, found through the
  index: SQLite FTS5 (`knowledge_articleversion_fts`, an OR query) or PostgreSQL's GIN array
  overlap (`search_tokens && terms`). Every version containing a term is a candidate, so the
  document frequencies counted over the candidates are exact, and SQLite and PostgreSQL rank alike.
- Ranking is BM25F (k1 = 1.2): a term's frequency in the title (and "other ways to ask") counts
  `TITLE_WEIGHT` times its frequency in the body, each length-normalised (b = 0.75) by its field's
  average over all valid published versions. So an article whose title names the query comes
  before one that only mentions it in the body (ADR 0013).
- A version is a result only if the query terms it contains carry at least `min_coverage` of the
  query's total idf (a term found nowhere counts with the largest idf): this keeps an article
  that shares only a common word with a long case description from being suggested. Suggestions
  from a case or request being typed also drop hits scoring below `min_relative` of the best one.
- One result per article (its best language version); ties go to the lower article id.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass

from django.db import connection
from django.db.models import Avg, Count, Q
from django.utils import timezone

from govcrm.cases.search import STOPWORDS

_WORD = re.compile(r"[0-9a-z\u3400-\u9fff\uf900-\ufaff]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Words that phrase a question or a call rather than say what it is about.
_QUESTION_TEXT = (
    "请问 怎么 怎么办 怎样 如何 什么 哪里 哪些 哪个 多少 需要 可以 能否 能不能 是否 咨询 问问 一下 想 想问 "
    "我们 你们 他们 市民 来电 反映 表示 称 希望 要求 请 帮忙 知道 告诉 现在 应该 "
    "how what where when which who do does did can could i my we our you your need want get should "
    "there any about me"
)
DROP = STOPWORDS | frozenset(_QUESTION_TEXT.split())

TITLE_WEIGHT = 3.0
K1 = 1.2
B = 0.75
MAX_QUERY_TERMS = 40
MAX_CANDIDATES = 5000


@functools.cache
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


_local = threading.local()  # a Snowball stemmer object keeps state between calls: one per thread


def _stem(word: str) -> str:
    if not word.isalpha() or not word.isascii():
        return word
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        import snowballstemmer

        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer.stemWord(word)


def tokens(text: str) -> list[str]:
    """Every term of the text, in order, repeats kept."""
    out: list[str] = []
    for token in _jieba().cut_for_search((text or "").lower()):
        out.extend(_stem(w) for w in _WORD.findall(token) if w not in DROP)
    return out


def query_terms(q: str) -> list[str]:
    """The distinct terms of a query; single Chinese characters only when nothing else is left."""
    found = list(dict.fromkeys(tokens(q)))
    longer = [t for t in found if len(t) > 1 or not _CJK.match(t)]
    return (longer or found)[:MAX_QUERY_TERMS]


def query_language(q: str) -> str:
    """zh-hans when the query has a Chinese character, else en."""
    return "zh-hans" if _CJK.search(q or "") else "en"


@dataclass(frozen=True)
class IndexedText:
    search_text: str
    title_terms: str
    body_terms: str
    title_length: int
    body_length: int


def index_text(*, title: str, keywords: str, body: str) -> IndexedText:
    title_tokens = tokens(f"{title} {keywords}")
    body_tokens = tokens(body)
    distinct = dict.fromkeys(title_tokens + body_tokens)
    return IndexedText(" ".join(distinct), " ".join(title_tokens), " ".join(body_tokens),
                       len(title_tokens), len(body_tokens))


@dataclass(frozen=True)
class Hit:
    version_id: int
    article_id: int
    language: str
    score: float
    coverage: float


def valid_published(today: dt.date | None = None):
    """Versions that may be found: published, of an article not archived and valid today."""
    from .models import ArticleVersion, VersionStatus

    today = today or timezone.localdate()
    return ArticleVersion.objects.filter(
        Q(article__valid_from__isnull=True) | Q(article__valid_from__lte=today),
        Q(article__valid_until__isnull=True) | Q(article__valid_until__gte=today),
        status=VersionStatus.PUBLISHED, article__archived=False,
    )


def _candidate_ids(words: list[str]) -> list[int]:
    if connection.vendor == "postgresql":
        sql = ("SELECT id FROM knowledge_articleversion WHERE status = 'published' "
               "AND search_tokens && %s::text[] LIMIT %s")
        params: list = [words, MAX_CANDIDATES]
    else:
        match = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
        # The FTS query as a subquery: joined, SQLite's planner may test MATCH row by row instead.
        sql = ("SELECT id FROM knowledge_articleversion WHERE status = 'published' AND id IN "
               "(SELECT rowid FROM knowledge_articleversion_fts WHERE knowledge_articleversion_fts MATCH %s) LIMIT %s")
        params = [match, MAX_CANDIDATES]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def search(q: str, *, language: str | None = None, limit: int = 5, min_coverage: float = 0.3,
           min_relative: float = 0.0, today: dt.date | None = None) -> list[Hit]:
    """The best valid published articles for the query, best first, one hit per article."""
    words = query_terms(q)
    if not words:
        return []
    ids = _candidate_ids(words)
    if not ids:
        return []
    base = valid_published(today)
    if language:
        base = base.filter(language=language)
    stats = base.aggregate(n=Count("id"), title=Avg("title_length"), body=Avg("body_length"))
    n = stats["n"] or 0
    if not n:
        return []
    avg_title = max(float(stats["title"] or 0), 1.0)
    avg_body = max(float(stats["body"] or 0), 1.0)
    rows = list(base.filter(id__in=ids).values_list("id", "article_id", "language", "title_terms", "body_terms",
                                                    "title_length", "body_length"))
    docs = [(r, Counter(r[3].split()), Counter(r[4].split())) for r in rows]
    wanted = set(words)
    df: Counter[str] = Counter()
    for _r, title_tf, body_tf in docs:
        df.update(wanted & (title_tf.keys() | body_tf.keys()))
    idf = {w: math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5)) for w in words}
    total_idf = sum(idf.values())
    best: dict[int, Hit] = {}
    for (vid, aid, lang, _t, _b, tlen, blen), title_tf, body_tf in docs:
        score = 0.0
        matched = 0.0
        for w in words:
            tf = (TITLE_WEIGHT * title_tf[w] / (1 - B + B * tlen / avg_title)
                  + body_tf[w] / (1 - B + B * blen / avg_body))
            if tf:
                score += idf[w] * tf / (K1 + tf)
                matched += idf[w]
        coverage = matched / total_idf if total_idf else 0.0
        if coverage < min_coverage or score <= 0:
            continue
        hit = Hit(vid, aid, lang, score, coverage)
        if aid not in best or (hit.score, -hit.version_id) > (best[aid].score, -best[aid].version_id):
            best[aid] = hit
    ranked = sorted(best.values(), key=lambda h: (-h.score, h.article_id))
    return [h for h in ranked if h.score >= min_relative * ranked[0].score][:limit]
