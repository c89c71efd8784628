"""What the portal records about its own use: page views, searches, and the day's salt.

Rules (see the package README):
- No raw address, no URL with its query string, no cookie: a visitor is a `session` — a keyed
  hash of (client address, user agent) under a salt that changes every local day and is kept
  in this table only (`DailySalt`), deleted the day after. Two page views of one browser on one
  day share a session; the same browser tomorrow is a stranger, and nobody — not an operator with
  the database — can link the two once yesterday's salt is gone.
- A page is its URL pattern (`route`, `path` — `/help/<int:article_id>/`), never the path typed;
  only whitelisted, non-personal URL parts are kept (an article id, a service code), never a case
  number or a query string.
- Rows are append-only and written in bulk (`recorder.py`); nothing reads them but the warehouse
  load (by id), so they carry no index beyond the primary key.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PageView(models.Model):
    at = models.DateTimeField(_("time"))
    session = models.CharField(_("session hash"), max_length=32)
    route = models.CharField(_("page name"), max_length=64)  # URL name, e.g. "help:article"
    path = models.CharField(_("page"), max_length=200)  # URL pattern, e.g. "/help/<int:article_id>/"
    object_kind = models.CharField(_("object kind"), max_length=16, blank=True)  # "article", "service"
    object_ref = models.CharField(_("object"), max_length=64, blank=True)
    referrer_path = models.CharField(_("referrer page"), max_length=200, blank=True)  # a pattern of ours
    referrer_site = models.CharField(_("referrer site"), max_length=100, blank=True)  # another site's host
    search_query = models.CharField(_("from search"), max_length=100, blank=True)  # clicked from a search
    language = models.CharField(_("language"), max_length=8, blank=True)
    status = models.PositiveSmallIntegerField(_("response status"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))

    class Meta:
        verbose_name = _("portal page view")
        verbose_name_plural = _("portal page views")

    def __str__(self) -> str:
        return f"{self.path} {self.at:%Y-%m-%d %H:%M}"


class PortalSearch(models.Model):
    class Kind(models.TextChoices):
        KNOWLEDGE = "knowledge", _("Help articles")
        SERVICES = "services", _("Service catalogue")

    at = models.DateTimeField(_("time"))
    session = models.CharField(_("session hash"), max_length=32)
    kind = models.CharField(_("search"), max_length=16, choices=Kind.choices)
    query = models.CharField(_("query"), max_length=100)  # normalised, numbers and addresses scrubbed
    results = models.PositiveIntegerField(_("results"))
    language = models.CharField(_("language"), max_length=8, blank=True)

    class Meta:
        verbose_name = _("portal search")
        verbose_name_plural = _("portal searches")

    def __str__(self) -> str:
        return self.query


class DailySalt(models.Model):
    day = models.DateField(_("day"), primary_key=True)
    salt = models.CharField(_("salt"), max_length=64)

    class Meta:
        verbose_name = _("daily salt")
        verbose_name_plural = _("daily salts")

    def __str__(self) -> str:
        return str(self.day)
