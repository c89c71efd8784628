"""Reads of the knowledge base, and who may change it.

Rules:
- Every staff member may read and search published articles; citizens (portal) and API clients
  see only valid published versions (`search.valid_published`).
- Knowledge managers are supervisors and administrators (every article) and unit managers
  (articles owned by a unit in their subtree). The staff member named as an article's owner
  may write drafts of it but not publish them, unless their role allows it anyway.
  An analyst changes nothing.
- The gap list and the deflection figures are for knowledge managers and analysts.
- An article "needs attention" when it has expired or expires within `EXPIRY_WARNING_DAYS`
  (listed for its owners), or when it has no published version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from govcrm.common.errors import NotFound
from govcrm.organization.models import Role
from govcrm.organization.queries import Actor

from . import search as kb_search
from .models import Article, ArticleVersion, KnowledgeGap, Outcome, SelfServiceOutcome, VersionStatus

EVERY_ARTICLE = frozenset({Role.SUPERVISOR, Role.ADMIN})
MANAGERS = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.MANAGER})
FIGURE_READERS = frozenset({*MANAGERS, Role.ANALYST})
EXPIRY_WARNING_DAYS = 30


def may_create(actor: Actor) -> bool:
    return actor.role in MANAGERS


def _owns_by_unit(actor: Actor, article: Article) -> bool:
    return (actor.role == Role.MANAGER and article.owner_unit is not None
            and article.owner_unit.path.startswith(actor.unit_path))


def may_publish(actor: Actor, article: Article) -> bool:
    return actor.role in EVERY_ARTICLE or _owns_by_unit(actor, article)


def may_edit(actor: Actor, article: Article) -> bool:
    if may_publish(actor, article):
        return True
    return actor.role != Role.ANALYST and actor.user_id is not None and actor.user_id == article.owner_staff_id


def may_read_figures(actor: Actor) -> bool:
    return actor.role in FIGURE_READERS


def _with_versions(qs: QuerySet[Article]) -> QuerySet[Article]:
    return qs.select_related("owner_unit", "owner_staff").prefetch_related(
        "categories", Prefetch("versions", queryset=ArticleVersion.objects.order_by("language", "-number")))


def article_list(*, q: str = "", mine_for: Actor | None = None) -> QuerySet[Article]:
    """All articles (for staff), newest change first; `q` narrows by key or title words."""
    qs = Article.objects.all()
    if q:
        qs = qs.filter(Q(key__icontains=q) | Q(versions__title__icontains=q)).distinct()
    if mine_for is not None:
        qs = qs.filter(editable_filter(mine_for))
    return _with_versions(qs.order_by("-updated_at", "key"))


def editable_filter(actor: Actor) -> Q:
    """Articles the actor may edit, as a filter (matches may_edit)."""
    if actor.role in EVERY_ARTICLE:
        return Q()
    q = Q(pk__in=[])
    if actor.role == Role.MANAGER:
        q |= Q(owner_unit__path__startswith=actor.unit_path)
    if actor.role != Role.ANALYST and actor.user_id is not None:
        q |= Q(owner_staff_id=actor.user_id)
    return q


def article_get(article_id: int) -> Article:
    try:
        return _with_versions(Article.objects.filter(pk=article_id)).get()
    except Article.DoesNotExist:
        raise NotFound("No such article") from None


def published_version(article: Article, language: str | None = None) -> ArticleVersion | None:
    """The published version in the language, else the other language's, from prefetched versions."""
    published = [v for v in article.versions.all() if v.status == VersionStatus.PUBLISHED]
    published.sort(key=lambda v: (v.language != language, v.language != "zh-hans"))
    return published[0] if published else None


@dataclass(frozen=True)
class Suggestion:
    article_id: int
    key: str
    version: ArticleVersion
    score: float


def suggestions(q: str, *, language: str | None = None, limit: int = 5, min_coverage: float = 0.3,
                min_relative: float = 0.0, today: dt.date | None = None) -> list[Suggestion]:
    """The best valid published articles for a text, with the matching version, best first."""
    hits = kb_search.search(q, language=language, limit=limit, min_coverage=min_coverage,
                            min_relative=min_relative, today=today)
    versions = ArticleVersion.objects.select_related("article").in_bulk([h.version_id for h in hits])
    return [Suggestion(h.article_id, versions[h.version_id].article.key, versions[h.version_id], h.score)
            for h in hits if h.version_id in versions]


# For the text of a case or request being typed (long, many words no article has): a lower share
# of the terms must match, and weak hits beside a strong one are dropped. Chosen on typical
# intake texts over the sample articles (see tests/test_views.py).
TYPED_COVERAGE = 0.18
TYPED_RELATIVE = 0.5
# An article linked to the case category chosen on the form (or to one of its parents) is
# likelier to be the answer: its score counts this much more.
CATEGORY_BOOST = 1.5


def typed_suggestions(text: str, *, category: str = "", limit: int = 3) -> list[Suggestion]:
    """Articles for a case description or portal request typed so far, helped by its chosen category."""
    found = suggestions(text, limit=10, min_coverage=TYPED_COVERAGE)
    if category and found:
        linked = _linked_articles(category, [s.article_id for s in found])
        found = sorted((Suggestion(s.article_id, s.key, s.version,
                                   s.score * (CATEGORY_BOOST if s.article_id in linked else 1.0)) for s in found),
                       key=lambda s: (-s.score, s.article_id))
    return [s for s in found if s.score >= TYPED_RELATIVE * found[0].score][:limit]


def _linked_articles(category: str, article_ids: list[int]) -> set[int]:
    """Of these articles, those linked to the category or to one of its parents."""
    parts = category.split(".")
    codes = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return set(Article.objects.filter(pk__in=article_ids, categories__code__in=codes).values_list("pk", flat=True))


def public_version(article_id: int, language: str | None = None) -> ArticleVersion:
    """A valid published version of the article (the language's if there is one), else NotFound."""
    # `article__pk`: an out-of-range id is then "no row" (Django checks ranges on pk lookups only).
    found = list(kb_search.valid_published().filter(article__pk=article_id).select_related("article"))
    found.sort(key=lambda v: (v.language != language, v.language != "zh-hans"))
    if not found:
        raise NotFound("No such article")
    return found[0]


def public_list(*, language: str | None = None, category: str | None = None) -> QuerySet[ArticleVersion]:
    qs = kb_search.valid_published().select_related("article").prefetch_related("article__categories")
    if language:
        qs = qs.filter(language=language)
    if category:
        qs = qs.filter(Q(article__categories__code=category) | Q(article__categories__code__startswith=category + "."))
    return qs.distinct().order_by("article__key", "language")


def attention_list(actor: Actor, *, today: dt.date | None = None) -> QuerySet[Article]:
    """The actor's articles that have expired, expire soon, or have nothing published."""
    today = today or timezone.localdate()
    soon = today + dt.timedelta(days=EXPIRY_WARNING_DAYS)
    qs = Article.objects.filter(editable_filter(actor), archived=False).annotate(
        published=Count("versions", filter=Q(versions__status=VersionStatus.PUBLISHED)))
    qs = qs.filter(Q(valid_until__lte=soon) | Q(published=0))
    return _with_versions(qs.order_by("valid_until", "key"))


def gap_list(*, include_dismissed: bool = False) -> QuerySet[KnowledgeGap]:
    qs = KnowledgeGap.objects.select_related("dismissed_by")
    if not include_dismissed:
        qs = qs.filter(dismissed_at__isnull=True)
    return qs.order_by("-count", "-last_searched_at")


@dataclass(frozen=True)
class DeflectionRow:
    article: Article
    resolved: int
    not_resolved: int

    @property
    def answered(self) -> int:
        return self.resolved + self.not_resolved

    @property
    def rate(self) -> float | None:
        return self.resolved / self.answered if self.answered else None


def deflection_figures(*, days: int = 90) -> list[DeflectionRow]:
    """Per article: portal requests it answered (not sent) and not, over the last `days` days."""
    since = timezone.now() - dt.timedelta(days=days)
    counts = (SelfServiceOutcome.objects.filter(created_at__gte=since).values("article_id")
              .annotate(resolved=Count("id", filter=Q(outcome=Outcome.RESOLVED)),
                        not_resolved=Count("id", filter=Q(outcome=Outcome.NOT_RESOLVED))))
    by_id = {c["article_id"]: c for c in counts}
    articles = Article.objects.filter(pk__in=by_id).prefetch_related("versions")
    rows = [DeflectionRow(a, by_id[a.pk]["resolved"], by_id[a.pk]["not_resolved"]) for a in articles]
    return sorted(rows, key=lambda r: (-r.resolved, -r.answered, r.article.key))
