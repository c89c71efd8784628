"""Knowledge articles with per-language version histories, the self-service outcomes and the gaps.

Rules:
- An `Article` is one answer to one question, with its owners (a unit and/or a staff member),
  its case categories and its validity dates. Its text lives in `ArticleVersion` rows, one
  history per language (zh-hans, en): a Chinese and an English version of the same article are
  versions of one article, not linked articles, so that owners, categories, validity and the
  deflection counts are shared.
- A version's text is never changed once saved (actions only move its status): editing makes
  a new draft, publishing (`actions.article_publish`) makes it the one published version of its
  language and retires the previous one. The database enforces one published version per
  article and language.
- An article is suggested only while it is valid: published, not archived, `valid_from` (if
  any) on or before today and `valid_until` (if any) on or after today.
- `search_text` (the distinct terms) is indexed by SQLite FTS5 or a PostgreSQL GIN array
  (migration 0002); `title_terms` / `body_terms` keep the terms with repeats for ranking
  (`search.py`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from govcrm.common.models import TimestampedModel


class Language(models.TextChoices):
    ZH = "zh-hans", _("Chinese")
    EN = "en", _("English")


class Article(TimestampedModel):
    key = models.SlugField(_("key"), max_length=80, unique=True,
                           help_text=_("A stable short name, e.g. residence-permit."))
    owner_unit = models.ForeignKey("organization.Unit", verbose_name=_("owner unit"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="knowledge_articles")
    owner_staff = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="knowledge_articles")
    categories = models.ManyToManyField("cases.Category", verbose_name=_("case categories"), blank=True,
                                        related_name="knowledge_articles")
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    archived = models.BooleanField(_("archived"), default=False)

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True) | models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="knowledge_article_valid_range",
            ),
            models.CheckConstraint(condition=models.Q(owner_unit__isnull=False) | models.Q(owner_staff__isnull=False),
                                   name="knowledge_article_has_owner"),
        ]

    def __str__(self) -> str:
        return self.key

    def is_valid_on(self, day) -> bool:
        return (not self.archived and (self.valid_from is None or self.valid_from <= day)
                and (self.valid_until is None or self.valid_until >= day))


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")  # was published, replaced by a later version or unpublished
    SUPERSEDED = "superseded", _("Superseded")  # a draft replaced by a later draft before publication


class ArticleVersion(TimestampedModel):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("answer"))
    keywords = models.CharField(_("other ways to ask"), max_length=400, blank=True,
                                help_text=_("Words and phrases citizens use for this question, separated by commas."))
    note = models.CharField(_("change note"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    # Search (see search.py): distinct terms for the index, terms with repeats for ranking.
    search_text = models.TextField(default="", editable=False)
    title_terms = models.TextField(default="", editable=False)
    body_terms = models.TextField(default="", editable=False)
    title_length = models.PositiveIntegerField(default=0, editable=False)
    body_length = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article", "language", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "language", "number"], name="knowledge_version_number"),
            models.UniqueConstraint(fields=["article", "language"], condition=models.Q(status="published"),
                                    name="knowledge_one_published_version"),
        ]
        indexes = [models.Index(fields=["status", "language"], name="knowledge_version_status")]

    def __str__(self) -> str:
        return f"{self.article.key} {self.language} v{self.number}"


class Outcome(models.TextChoices):
    RESOLVED = "resolved", _("Answered the question")
    NOT_RESOLVED = "not_resolved", _("Did not answer it")


class SelfServiceOutcome(TimestampedModel):
    """What a citizen said of an article offered while writing one portal request.

    One row per (request form, article): the form's submission token ties the "yes", the "no"
    and the submission together, so a citizen who says yes and then submits anyway counts once,
    as not resolved. A deflection is a row left `resolved`.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="outcomes")
    token = models.UUIDField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    submitted = models.BooleanField(default=False)  # the request was sent anyway
    language = models.CharField(max_length=8, choices=Language.choices)
    query = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("self-service outcome")
        verbose_name_plural = _("self-service outcomes")
        constraints = [models.UniqueConstraint(fields=["token", "article"], name="knowledge_outcome_once")]


class Channel(models.TextChoices):
    CONSOLE = "console", _("Console")
    PORTAL = "portal", _("Portal")


class KnowledgeGap(TimestampedModel):
    """A search that found no article: one row per normalised query, language and channel, counted."""

    query = models.CharField(_("query"), max_length=200)
    normalized = models.CharField(max_length=200, editable=False)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    count = models.PositiveIntegerField(_("searches"), default=1)
    last_searched_at = models.DateTimeField(_("last searched"))
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        verbose_name = _("knowledge gap")
        verbose_name_plural = _("knowledge gaps")
        ordering = ["-count", "-last_searched_at"]
        constraints = [models.UniqueConstraint(fields=["normalized", "language", "channel"],
                                               name="knowledge_gap_once")]

    def __str__(self) -> str:
        return self.query
