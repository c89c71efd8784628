"""Rules for proactive notices: renewals that fall due and services a citizen becomes entitled to by age.

Recommendations themselves are computed, not stored (see `recommend.py`, `queries.py`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from govcrm.common.models import TimestampedModel


class ProactiveRule(TimestampedModel):
    """One rule: "an approved X is valid M months; remind N working days before" or "from age A, offer X"."""

    class Kind(models.TextChoices):
        RENEWAL = "renewal", _("Renewal falls due")
        AGE = "age", _("Entitled from an age")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    service = models.ForeignKey("services.ServiceItem", on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("service"))
    renew_with = models.ForeignKey("services.ServiceItem", on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="+", verbose_name=_("renewed by applying for"),
                                   help_text=_("Empty: the same service."))
    valid_months = models.PositiveSmallIntegerField(_("valid for (months)"), null=True, blank=True)
    min_age = models.PositiveSmallIntegerField(_("from age"), null=True, blank=True)
    lead_working_days = models.PositiveSmallIntegerField(
        _("notice from (working days before)"), default=20,
        help_text=_("Renewals: before the last working day to renew. Age: before the birthday."))
    grace_days = models.PositiveSmallIntegerField(_("still shown after expiry (days)"), default=30)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("proactive notice rule")
        verbose_name_plural = _("proactive notice rules")
        ordering = ["kind", "service__code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "service"], name="personal_rule_unique"),
            models.CheckConstraint(
                condition=(models.Q(kind="renewal", valid_months__gte=1)
                           | models.Q(kind="age", min_age__isnull=False)),
                name="personal_rule_complete"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.service.code}"

    @property
    def renewal_service_id(self) -> int:
        return self.renew_with_id or self.service_id
