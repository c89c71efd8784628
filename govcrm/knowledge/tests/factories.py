"""Factories for knowledge articles: an article with one published Chinese version by default."""

from __future__ import annotations

import factory

from govcrm.knowledge import search as kb_search
from govcrm.knowledge.models import Article, ArticleVersion, VersionStatus
from govcrm.organization.tests.factories import UnitFactory


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    key = factory.Sequence(lambda n: f"article-{n}")
    owner_unit = factory.SubFactory(UnitFactory)


class ArticleVersionFactory(factory.django.DjangoModelFactory):
    """A version with its search terms computed as the actions compute them."""

    class Meta:
        model = ArticleVersion

    article = factory.SubFactory(ArticleFactory)
    language = "zh-hans"
    number = factory.Sequence(lambda n: n + 1)
    status = VersionStatus.PUBLISHED
    title = factory.Sequence(lambda n: f"文章{n}")
    body = "正文"
    keywords = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        indexed = kb_search.index_text(title=kwargs["title"], keywords=kwargs.get("keywords", ""),
                                       body=kwargs["body"])
        kwargs.update(search_text=indexed.search_text, title_terms=indexed.title_terms,
                      body_terms=indexed.body_terms, title_length=indexed.title_length,
                      body_length=indexed.body_length)
        return super()._create(model_class, *args, **kwargs)
