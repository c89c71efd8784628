"""REST endpoints of the knowledge base (read only): published articles and search.

Any authenticated caller (bearer token or staff session) reads valid published articles only;
drafts and history stay in the console. Search ranks as `search.py` says and records nothing.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from govcrm.common.api import errors
from govcrm.common.errors import ValidationFailed

from . import queries
from .models import ArticleVersion, Language

router = Router(tags=["knowledge"])


class ArticleOut(Schema):
    id: int = Field(..., description="Article id")
    key: str
    language: str
    version: int
    title: str
    body: str
    keywords: str
    categories: list[str]
    valid_from: dt.date | None
    valid_until: dt.date | None
    published_at: dt.datetime | None


class SearchHitOut(Schema):
    id: int
    key: str
    language: str
    title: str
    score: float = Field(..., description="BM25F score; higher is better")


class ListFilters(Schema):
    language: str | None = Field(None, description="zh-hans or en")
    category: str | None = Field(None, description="a case category code (its subtree is included)")


class SearchFilters(Schema):
    q: str = Field(..., min_length=1, max_length=500)
    language: str | None = Field(None, description="zh-hans or en; both when absent")
    limit: int = Field(5, ge=1, le=20)


def _language(value: str | None) -> str | None:
    if value is not None and value not in Language.values:
        raise ValidationFailed("Unknown language", details={"language": "zh-hans or en"})
    return value


def _out(v: ArticleVersion) -> ArticleOut:
    a = v.article
    return ArticleOut(id=a.pk, key=a.key, language=v.language, version=v.number, title=v.title, body=v.body,
                      keywords=v.keywords, categories=[c.code for c in a.categories.all()],
                      valid_from=a.valid_from, valid_until=a.valid_until, published_at=v.published_at)


@router.get("/knowledge/articles", response={200: list[ArticleOut], **errors(422)},
            summary="Valid published articles")
def article_list(request: HttpRequest, filters: Query[ListFilters]):
    return [_out(v) for v in queries.public_list(language=_language(filters.language), category=filters.category)]


@router.get("/knowledge/articles/{article_id}", response={200: ArticleOut, **errors(404, 422)},
            summary="One valid published article")
def article_get(request: HttpRequest, article_id: int, language: str | None = None):
    return _out(queries.public_version(article_id, _language(language)))


@router.get("/knowledge/search", response={200: list[SearchHitOut], **errors(422)},
            summary="Search articles (Chinese and English)")
def article_search(request: HttpRequest, filters: Query[SearchFilters]):
    found = queries.suggestions(filters.q, language=_language(filters.language), limit=filters.limit)
    return [SearchHitOut(id=s.article_id, key=s.key, language=s.version.language, title=s.version.title,
                         score=round(s.score, 4)) for s in found]
