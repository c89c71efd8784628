"""Knowledge search latency as the knowledge base grows.

    .venv/bin/python bench/knowledge.py [--sizes 33 1000 5000] [--repeat 20]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/govcrm_bench_kb .venv/bin/python bench/knowledge.py

Uses the database DATABASE_URL selects (default: SQLite under a temporary GOVCRM_HOME), migrates
it, loads the 33 sample articles, then grows the base to each size with generated articles (the
samples' texts under other titles: 东城区… / District 2…, so the vocabulary and the candidate
sets grow the way a real base's would) and times, after a warm-up, (a) the labelled queries of
the tests (`queries.suggestions`, the search pages) and (b) typed intake texts
(`queries.typed_suggestions`, every pause while an agent types). Prints p50/p95 in ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLACES = ["东城区", "西城区", "南山区", "北湖区", "开发区", "新区", "高新区", "滨江区", "老城区", "县城"]


def setup() -> None:
    if not os.environ.get("DATABASE_URL") and not os.environ.get("GOVCRM_HOME"):
        os.environ["GOVCRM_HOME"] = tempfile.mkdtemp(prefix="govcrm-bench-kb-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    subprocess.run([sys.executable, "-m", "govcrm", "migrate", "-v0"], cwd=ROOT, check=True)
    import django

    django.setup()


def grow(to: int) -> None:
    from govcrm.knowledge import search
    from govcrm.knowledge.models import Article, ArticleVersion
    from govcrm.knowledge.samples import sample_data
    from govcrm.organization.models import Unit

    have = Article.objects.count()
    if have >= to:
        return
    unit = Unit.objects.order_by("id").first()
    rows = sample_data()
    articles, texts = [], []
    for i in range(have, to):
        row = rows[i % len(rows)]
        place = PLACES[(i // len(rows)) % len(PLACES)]
        lang = "en" if "en" in row and i % 3 == 0 else "zh"
        t = row[lang]
        title = f"{place} {t['title']} {i}" if lang == "zh" else f"District {i % 17} {t['title']} {i}"
        articles.append(Article(key=f"bench-{i}", owner_unit=unit))
        texts.append(("zh-hans" if lang == "zh" else "en", title, t["body"], t.get("keywords", "")))
    Article.objects.bulk_create(articles, batch_size=500)
    made = {a.key: a for a in Article.objects.filter(key__startswith="bench-")}
    versions = []
    for article, (language, title, body, keywords) in zip(articles, texts, strict=True):
        ix = search.index_text(title=title, keywords=keywords, body=body)
        versions.append(ArticleVersion(
            article=made[article.key], language=language, number=1, status="published", title=title, body=body,
            keywords=keywords, search_text=ix.search_text, title_terms=ix.title_terms, body_terms=ix.body_terms,
            title_length=ix.title_length, body_length=ix.body_length))
    ArticleVersion.objects.bulk_create(versions, batch_size=500)


def timed(fn, texts: list[str], repeat: int) -> tuple[float, float]:
    for text in texts:
        fn(text)
    samples = []
    for _ in range(repeat):
        for text in texts:
            t = time.perf_counter()
            fn(text)
            samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[33, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    setup()
    from django.db import connection

    from govcrm.knowledge import queries
    from govcrm.knowledge.samples import samples_ensure
    from govcrm.knowledge.tests.test_ranking import LABELLED
    from govcrm.knowledge.tests.test_views import TYPED
    from govcrm.organization.models import Unit

    if not Unit.objects.exists():
        Unit.objects.create(code="centre", name_zh="热线中心", name_en="Hotline centre", kind="centre")
    samples_ensure()
    questions = [q for q, _ in LABELLED]
    typed = [t for t, _ in TYPED]
    print(f"database: {connection.vendor}; {len(questions)} questions, {len(typed)} typed texts, "
          f"repeat {args.repeat}")
    print("| articles | search p50 ms | search p95 ms | typed p50 ms | typed p95 ms |")
    print("| --- | --- | --- | --- | --- |")
    for size in args.sizes:
        grow(size)
        s50, s95 = timed(lambda q: queries.suggestions(q, limit=10), questions, args.repeat)
        t50, t95 = timed(queries.typed_suggestions, typed, args.repeat)
        print(f"| {size:,} | {s50:.1f} | {s95:.1f} | {t50:.1f} | {t95:.1f} |", flush=True)


if __name__ == "__main__":
    main()
