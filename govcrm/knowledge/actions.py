"""Writes of the knowledge base: articles and their versions, self-service outcomes, gaps.

Rules:
- Only knowledge managers create articles; editing an article's text appends a new draft
  version (the earlier unpublished draft of that language becomes `superseded`); publishing
  a version retires the published one of its language. Nothing is ever deleted or rewritten:
  the versions are the history (who wrote, who published, when). Who may do what:
  `queries.may_create` / `may_edit` / `may_publish`.
- A refused request raises `ValidationFailed` (with field details, in the caller's language) or
  `Forbidden` and stores nothing.
- Self-service outcomes come from the public portal: they are keyed on the request form's
  token, so repeats of the same answer count once and a later submission turns a "yes" into
  "not resolved" (a deflection is a "yes" with no submission).
- A gap is a search that found nothing: counted per normalised query, language and channel.
  Queries with no searchable term (only punctuation or question words) are not gaps.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from govcrm.cases.models import Category
from govcrm.common.errors import Forbidden, NotFound, ValidationFailed
from govcrm.organization.models import StaffProfile, Unit
from govcrm.organization.queries import Actor

from . import queries
from . import search as kb_search
from .models import (
    Article,
    ArticleVersion,
    Channel,
    KnowledgeGap,
    Language,
    Outcome,
    SelfServiceOutcome,
    VersionStatus,
)

KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_BODY = 20_000


@dataclass(frozen=True)
class ArticleText:
    language: str
    title: str
    body: str
    keywords: str = ""
    note: str = ""


@dataclass(frozen=True)
class ArticleSettings:
    owner_unit: str | None = None  # unit code
    owner_staff: str | None = None  # username
    categories: tuple[str, ...] = ()  # category codes
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


def _clean_text(text: ArticleText) -> ArticleText:
    errors = {}
    if text.language not in Language.values:
        errors["language"] = _("Choose Chinese or English.")
    title, body = text.title.strip(), text.body.strip()
    if not title:
        errors["title"] = _("A title is required.")
    elif len(title) > 200:
        errors["title"] = _("At most 200 characters.")
    if not body:
        errors["body"] = _("The answer is required.")
    elif len(body) > MAX_BODY:
        errors["body"] = _("At most 20,000 characters.")
    if len(text.keywords) > 400:
        errors["keywords"] = _("At most 400 characters.")
    if len(text.note) > 300:
        errors["note"] = _("At most 300 characters.")
    if errors:
        raise ValidationFailed(_("The article was not saved."), details=errors)
    return ArticleText(text.language, title, body, text.keywords.strip(), text.note.strip())


def _resolve_settings(s: ArticleSettings) -> tuple[Unit | None, object | None, list[Category]]:
    errors = {}
    unit = staff = None
    if s.owner_unit:
        unit = Unit.objects.filter(code=s.owner_unit).first()
        if unit is None:
            errors["owner_unit"] = _("No such unit.")
    if s.owner_staff:
        staff = get_user_model().objects.filter(username=s.owner_staff).first()
        if staff is None or not StaffProfile.objects.filter(user=staff).exists():
            errors["owner_staff"] = _("No such staff member.")
    if not s.owner_unit and not s.owner_staff:
        errors["owner_unit"] = _("Name the unit or the staff member responsible for the article.")
    codes = list(dict.fromkeys(s.categories))
    categories = list(Category.objects.filter(code__in=codes))
    missing = set(codes) - {c.code for c in categories}
    if missing:
        errors["categories"] = _("Unknown categories: %(codes)s") % {"codes": ", ".join(sorted(missing))}
    if s.valid_from and s.valid_until and s.valid_until < s.valid_from:
        errors["valid_until"] = _("The end of validity is before its start.")
    if errors:
        raise ValidationFailed(_("The article was not saved."), details=errors)
    return unit, staff, categories


def _new_version(*, actor: Actor, article: Article, text: ArticleText) -> ArticleVersion:
    last = article.versions.filter(language=text.language).aggregate(n=Max("number"))["n"] or 0
    article.versions.filter(language=text.language, status=VersionStatus.DRAFT).update(
        status=VersionStatus.SUPERSEDED, updated_at=timezone.now())
    indexed = kb_search.index_text(title=text.title, keywords=text.keywords, body=text.body)
    return ArticleVersion.objects.create(
        article=article, language=text.language, number=last + 1, status=VersionStatus.DRAFT,
        title=text.title, body=text.body, keywords=text.keywords, note=text.note, created_by_id=actor.user_id,
        search_text=indexed.search_text, title_terms=indexed.title_terms, body_terms=indexed.body_terms,
        title_length=indexed.title_length, body_length=indexed.body_length,
    )


def _check_owner_scope(actor: Actor, unit: Unit | None) -> None:
    """A unit manager may only give articles to units of their own subtree."""
    if actor.role in queries.EVERY_ARTICLE:
        return
    if unit is None or not unit.path.startswith(actor.unit_path):
        raise Forbidden(_("A unit manager may only manage articles owned by a unit of their own."))


def article_create(*, actor: Actor, key: str, text: ArticleText, settings: ArticleSettings) -> Article:
    """A new article with its first draft (publish it with `article_publish`)."""
    if not queries.may_create(actor):
        raise Forbidden(_("Only knowledge managers may create articles."))
    key = (key or "").strip().lower()
    if not KEY.match(key) or len(key) > 80:
        raise ValidationFailed(_("The article was not saved."),
                               details={"key": _("Use lower-case letters, digits and hyphens, e.g. residence-permit.")})
    text = _clean_text(text)
    unit, staff, categories = _resolve_settings(settings)
    _check_owner_scope(actor, unit)
    with transaction.atomic():
        if Article.objects.filter(key=key).exists():
            raise ValidationFailed(_("The article was not saved."), details={"key": _("This key is taken.")})
        article = Article.objects.create(key=key, owner_unit=unit, owner_staff=staff,
                                         valid_from=settings.valid_from, valid_until=settings.valid_until)
        article.categories.set(categories)
        _new_version(actor=actor, article=article, text=text)
    return article


def _locked(article_id: int) -> Article:
    try:
        return Article.objects.select_for_update(of=("self",)).select_related("owner_unit").get(pk=article_id)
    except Article.DoesNotExist:
        raise NotFound(_("No such article.")) from None


def article_update(*, actor: Actor, article_id: int, settings: ArticleSettings, archived: bool = False) -> Article:
    """Change owners, categories, validity dates or archiving (not versioned: not the text)."""
    unit, staff, categories = _resolve_settings(settings)
    with transaction.atomic():
        article = _locked(article_id)
        if not queries.may_publish(actor, article):
            raise Forbidden(_("You may not change this article's settings."))
        _check_owner_scope(actor, unit)
        article.owner_unit, article.owner_staff = unit, staff
        article.valid_from, article.valid_until = settings.valid_from, settings.valid_until
        article.archived = archived
        article.save()
        article.categories.set(categories)
    return article


def article_edit(*, actor: Actor, article_id: int, text: ArticleText) -> ArticleVersion:
    """A new draft of the article in the text's language; the published version stays until publication."""
    text = _clean_text(text)
    with transaction.atomic():
        article = _locked(article_id)
        if not queries.may_edit(actor, article):
            raise Forbidden(_("You may not edit this article."))
        version = _new_version(actor=actor, article=article, text=text)
        Article.objects.filter(pk=article.pk).update(updated_at=timezone.now())
    return version


def article_publish(*, actor: Actor, version_id: int) -> ArticleVersion:
    """Make a draft the published version of its language; the previous one is retired."""
    with transaction.atomic():
        try:
            article_id = ArticleVersion.objects.values_list("article_id", flat=True).get(pk=version_id)
        except ArticleVersion.DoesNotExist:
            raise NotFound(_("No such article version.")) from None
        article = _locked(article_id)
        if not queries.may_publish(actor, article):
            raise Forbidden(_("You may not publish this article."))
        version = ArticleVersion.objects.get(pk=version_id)
        if version.status != VersionStatus.DRAFT:
            raise ValidationFailed(_("Only a draft can be published."),
                                   details={"version": version.get_status_display()})
        now = timezone.now()
        article.versions.filter(language=version.language, status=VersionStatus.PUBLISHED).update(
            status=VersionStatus.RETIRED, updated_at=now)
        version.status, version.published_at, version.published_by_id = VersionStatus.PUBLISHED, now, actor.user_id
        version.save(update_fields=["status", "published_at", "published_by", "updated_at"])
        Article.objects.filter(pk=article.pk).update(updated_at=now)
    return version


def article_unpublish(*, actor: Actor, article_id: int, language: str) -> None:
    """Withdraw the published version of a language (it is retired; the article is no longer offered in it)."""
    with transaction.atomic():
        article = _locked(article_id)
        if not queries.may_publish(actor, article):
            raise Forbidden(_("You may not publish this article."))
        changed = article.versions.filter(language=language, status=VersionStatus.PUBLISHED).update(
            status=VersionStatus.RETIRED, updated_at=timezone.now())
        if not changed:
            raise ValidationFailed(_("Nothing is published in this language."), details={"language": language})


def _normalized(query: str) -> str:
    return " ".join(kb_search.query_terms(query))


def gap_record(*, query: str, channel: str, language: str | None = None) -> KnowledgeGap | None:
    """Count a search that found nothing. Returns None when the query has nothing to search for."""
    if channel not in Channel.values:
        raise ValidationFailed("Unknown channel", details={"channel": channel})
    query = " ".join(query.split())[:200]
    normalized = _normalized(query)[:200]
    if not normalized:
        return None
    language = language if language in Language.values else kb_search.query_language(query)
    now = timezone.now()
    for _attempt in range(2):  # two first searches at once: the loser of the insert counts on the row
        updated = KnowledgeGap.objects.filter(normalized=normalized, language=language, channel=channel).update(
            count=F("count") + 1, last_searched_at=now, query=query, updated_at=now)
        if updated:
            return KnowledgeGap.objects.get(normalized=normalized, language=language, channel=channel)
        try:
            with transaction.atomic():
                return KnowledgeGap.objects.create(query=query, normalized=normalized, language=language,
                                                   channel=channel, count=1, last_searched_at=now)
        except IntegrityError:
            continue
    return None


def search(*, query: str, channel: str, limit: int = 10) -> list:
    """A person's search (console or portal): the ranked articles; one that finds nothing is
    counted as a knowledge gap."""
    from . import queries

    results = queries.suggestions(query, limit=limit)
    if not results:
        gap_record(query=query, channel=channel)
    return results


def gap_dismiss(*, actor: Actor, gap_id: int) -> KnowledgeGap:
    """Hide a gap from the list (answered by a new article, or not a question for the knowledge base)."""
    if actor.role not in queries.MANAGERS:
        raise Forbidden(_("Only knowledge managers may dismiss gaps."))
    with transaction.atomic():
        gap = KnowledgeGap.objects.select_for_update().filter(pk=gap_id).first()
        if gap is None:
            raise NotFound(_("No such gap."))
        if gap.dismissed_at is None:
            gap.dismissed_at, gap.dismissed_by_id = timezone.now(), actor.user_id
            gap.save(update_fields=["dismissed_at", "dismissed_by", "updated_at"])
    return gap


def _token(token: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(token))
    except ValueError:
        raise ValidationFailed(_("This form has expired: reload the page."), details={"token": "invalid"}) from None


def selfservice_answer(*, token: str, article_id: int, resolved: bool, query: str = "",
                       language: str = "zh-hans") -> SelfServiceOutcome:
    """The citizen's "yes, this answers my question" or "no" about an offered article."""
    key = _token(token)
    # `article__pk`, not `article_id`: Django turns an out-of-range id into "no row" only on pk lookups.
    if not kb_search.valid_published().filter(article__pk=article_id).exists():
        raise NotFound(_("No such article."))
    language = language if language in Language.values else "zh-hans"
    outcome = Outcome.RESOLVED if resolved else Outcome.NOT_RESOLVED
    with transaction.atomic():
        row = SelfServiceOutcome.objects.select_for_update().filter(token=key, article_id=article_id).first()
        if row is None:
            try:
                with transaction.atomic():
                    return SelfServiceOutcome.objects.create(token=key, article_id=article_id, outcome=outcome,
                                                             language=language, query=query[:300])
            except IntegrityError:
                row = SelfServiceOutcome.objects.select_for_update().get(token=key, article_id=article_id)
        if not row.submitted and row.outcome != outcome:
            row.outcome = outcome
            row.save(update_fields=["outcome", "updated_at"])
    return row


def selfservice_request_sent(*, token: str, article_ids: list[str], query: str = "",
                             language: str = "zh-hans") -> int:
    """The portal request was submitted although these articles were offered: none resolved it.

    Unknown or malformed ids are ignored (the list comes from the citizen's browser). Returns
    how many articles were counted.
    """
    try:
        key = uuid.UUID(str(token))
    except ValueError:
        return 0
    ids = sorted({int(i) for i in article_ids[:20] if str(i).isdigit()})
    ids = [i for i in ids if i < 2**63]  # a larger number cannot be an id (and overflows SQLite)
    if not ids:  # most requests: nothing was offered, nothing to write
        return 0
    ids = list(kb_search.valid_published().filter(article__pk__in=ids).values_list("article_id", flat=True).distinct())
    language = language if language in Language.values else "zh-hans"
    with transaction.atomic():
        for article_id in ids:
            SelfServiceOutcome.objects.update_or_create(
                token=key, article_id=article_id,
                defaults={"outcome": Outcome.NOT_RESOLVED, "submitted": True},
                create_defaults={"outcome": Outcome.NOT_RESOLVED, "submitted": True, "language": language,
                                 "query": query[:300]},
            )
    return len(ids)


def article_versions_reindex(*, batch: int = 500) -> tuple[int, int]:
    """Recompute every version's search terms from its text; returns (changed, total).

    The terms are derived from the text (never the text itself), so this rewrites no history.
    """
    fields = ["search_text", "title_terms", "body_terms", "title_length", "body_length"]
    changed: list[ArticleVersion] = []
    total = 0
    for version in ArticleVersion.objects.only("id", "title", "keywords", "body", *fields).iterator(chunk_size=batch):
        total += 1
        ix = kb_search.index_text(title=version.title, keywords=version.keywords, body=version.body)
        new = (ix.search_text, ix.title_terms, ix.body_terms, ix.title_length, ix.body_length)
        if new != tuple(getattr(version, f) for f in fields):
            for name, value in zip(fields, new, strict=True):
                setattr(version, name, value)
            changed.append(version)
    with transaction.atomic():
        ArticleVersion.objects.bulk_update(changed, fields, batch_size=batch)
    return len(changed), total
