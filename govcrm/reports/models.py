"""Scheduled reports: who subscribes to what, the reports built, and each mailing of one.

Rules:
- A staff member has at most one subscription per kind (weekly, monthly), with a language and at
  least one format (PDF, XLSX). Who may subscribe is decided in actions.py (the dashboards' roles).
- A `Report` is built once per (kind, period, scope, language) and kept: the mailing and the
  download page serve the same bytes. Scope is the unit path its figures are limited to ("" for
  the whole city).
- A `Delivery` is one mailing of one period's report to one subscriber, unique per
  (user, kind, period): whichever worker inserts it first sends it, so two workers or a restart
  never mail a report twice (actions.py: claim, send, retry).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govcrm.common.models import TimestampedModel


class Kind(models.TextChoices):
    WEEKLY = "weekly", _("Weekly report")
    MONTHLY = "monthly", _("Monthly report")


class Subscription(TimestampedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="report_subscriptions", verbose_name=_("staff member"))
    kind = models.CharField(_("report"), max_length=8, choices=Kind.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    pdf = models.BooleanField(_("PDF"), default=True)
    xlsx = models.BooleanField(_("XLSX"), default=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        ordering = ["user__username", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="report_subscription_user_kind_unique"),
            models.CheckConstraint(condition=Q(pdf=True) | Q(xlsx=True), name="report_subscription_has_format"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()}"

    @property
    def formats(self) -> list[str]:
        return [f for f in ("pdf", "xlsx") if getattr(self, f)]


class Report(models.Model):
    kind = models.CharField(_("report"), max_length=8, choices=Kind.choices)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    scope_path = models.CharField(_("scope"), max_length=255, blank=True,
                                  help_text="unit path the figures are limited to; empty: the whole city")
    scope_unit = models.ForeignKey("organization.Unit", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("unit"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    as_of = models.DateTimeField(_("figures as of"))
    created_at = models.DateTimeField(auto_now_add=True)
    pdf = models.BinaryField()
    xlsx = models.BinaryField()
    headline = models.JSONField(default=dict, help_text="the three rates, for the mail's text")

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-period_start", "kind", "scope_path", "language"]
        constraints = [models.UniqueConstraint(fields=["kind", "period_start", "scope_path", "language"],
                                               name="report_kind_period_scope_language_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.period_start} {self.scope_path or 'city'} {self.language}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(Subscription, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="deliveries")
    kind = models.CharField(_("report"), max_length=8, choices=Kind.choices)
    period_start = models.DateField(_("from"))
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.SENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True,
                                           help_text="when a failed mailing is tried again; empty: given up")
    sent_at = models.DateTimeField(null=True, blank=True)
    to_address = models.CharField(max_length=254, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("report mailing")
        verbose_name_plural = _("report mailings")
        ordering = ["-period_start", "user_id"]
        constraints = [models.UniqueConstraint(fields=["user", "kind", "period_start"],
                                               name="report_delivery_once_per_period")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="report_delivery_retry_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.period_start} → {self.user_id} ({self.status})"
