"""The sample articles shipped in `data/articles.json` (33 articles, 12 also in English).

They are the demo's knowledge base (`govcrm demo` calls `samples_ensure`) and the corpus of the
search tests' labelled queries. Each is created through the actions, as the system, with its
versions published; owners are demo units found by code, or `fallback_unit` (for example the
hotline centre of a test city) when the demo city is not there. Categories that do not exist
are skipped. Idempotent: an article whose key exists is left as it is.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.db import transaction

from govcrm.cases.models import Category
from govcrm.organization.models import Unit
from govcrm.organization.queries import SYSTEM

from .actions import ArticleSettings, ArticleText, article_create, article_edit, article_publish
from .models import Article, Language

DATA = Path(__file__).with_name("data") / "articles.json"


def sample_data() -> list[dict]:
    return json.loads(DATA.read_text(encoding="utf-8"))


def samples_ensure(*, fallback_unit: Unit | None = None) -> int:
    """Create the sample articles that are missing; returns how many were created."""
    rows = [r for r in sample_data() if not Article.objects.filter(key=r["key"]).exists()]
    if not rows:
        return 0
    units = {u.code: u for u in Unit.objects.filter(code__in={r["owner_unit"] for r in rows})}
    fallback = fallback_unit or Unit.objects.filter(parent__isnull=True).order_by("id").first()
    known = set(Category.objects.values_list("code", flat=True))
    with transaction.atomic():
        for row in rows:
            unit = units.get(row["owner_unit"], fallback)
            settings = ArticleSettings(
                owner_unit=unit.code if unit else None,
                categories=tuple(c for c in row.get("categories", ()) if c in known),
                valid_from=dt.date.fromisoformat(row["valid_from"]) if row.get("valid_from") else None,
                valid_until=dt.date.fromisoformat(row["valid_until"]) if row.get("valid_until") else None,
            )
            zh = row["zh"]
            article = article_create(actor=SYSTEM, key=row["key"], settings=settings,
                                     text=ArticleText(Language.ZH, zh["title"], zh["body"], zh.get("keywords", "")))
            article_publish(actor=SYSTEM, version_id=article.versions.get().pk)
            if "en" in row:
                en = row["en"]
                version = article_edit(actor=SYSTEM, article_id=article.pk,
                                       text=ArticleText(Language.EN, en["title"], en["body"], en.get("keywords", "")))
                article_publish(actor=SYSTEM, version_id=version.pk)
    return len(rows)
