"""Classifier versions, the suggestions they made, the corrections people made, and the thresholds.

A suggestion is written once per case; feedback rows are appended, never edited, and are the
training signal of the next version alongside the cases' final categories.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from govcrm.cases.models import Case, Category
from govcrm.common.models import TimestampedModel
from govcrm.common.reference import InvalidatesReferenceCache
from govcrm.organization.models import Unit


class ClassifierModel(InvalidatesReferenceCache, models.Model):
    """One trained version, saved under $GOVCRM_HOME/models/classifier/<version>/."""

    version = models.CharField(_("version"), max_length=40, unique=True)
    created_at = models.DateTimeField(_("trained at"))
    source = models.CharField(_("training data"), max_length=300)
    n_samples = models.PositiveIntegerField(_("examples"))
    labels = models.JSONField(default=list)
    metrics = models.JSONField(default=dict, blank=True, help_text=_("Cross-validated scores at training."))
    train_seconds = models.FloatField(default=0)
    path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64, help_text=_("Checked before the file is loaded."))
    active = models.BooleanField(_("active"), default=False)

    class Meta:
        verbose_name = _("classifier version")
        verbose_name_plural = _("classifier versions")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["active"], condition=models.Q(active=True),
                                               name="classifier_one_active")]

    def __str__(self) -> str:
        return self.version


class DispatchThreshold(InvalidatesReferenceCache, TimestampedModel):
    """Above this confidence a case of this category (or its subtree) is dispatched automatically.

    The most specific threshold along the predicted category's chain applies; no threshold on the
    chain means the dispatcher always decides.
    """

    category = models.OneToOneField(Category, on_delete=models.CASCADE, related_name="dispatch_threshold",
                                    verbose_name=_("category"))
    threshold = models.FloatField(_("confidence threshold"),
                                  validators=[MinValueValidator(0.5), MaxValueValidator(1.0)],
                                  help_text=_("Between 0.5 and 1. Higher: fewer automatic dispatches, fewer errors."))
    auto_dispatch = models.BooleanField(_("dispatch automatically"), default=True)

    class Meta:
        verbose_name = _("automatic dispatch threshold")
        verbose_name_plural = _("automatic dispatch thresholds")
        ordering = ["category__code"]

    def __str__(self) -> str:
        return f"{self.category.code} ≥ {self.threshold:.2f}"


class Suggestion(models.Model):
    """What the classifier proposed for a case at intake, and what was done with it."""

    class Outcome(models.TextChoices):
        AUTO = "auto", _("Dispatched automatically")
        PENDING = "pending", _("Left to the dispatcher")
        INFO = "info", _("Shown only (the case was already dispatched)")

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="suggestion")
    model = models.ForeignKey(ClassifierModel, on_delete=models.PROTECT, related_name="suggestions")
    label = models.CharField(max_length=100)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    confidence = models.FloatField()
    threshold = models.FloatField(null=True, blank=True)
    alternatives = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("dispatch suggestion")
        verbose_name_plural = _("dispatch suggestions")

    def __str__(self) -> str:
        return f"{self.case_id}: {self.label} {self.confidence:.2f}"


class Feedback(models.Model):
    """A person's correction of a dispatch: another category or unit than the first one."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", _("Dispatcher chose otherwise")
        RECLASSIFY = "reclassify", _("Category corrected")
        RETURN = "return", _("Returned and sent to another unit")
        TRANSFER = "transfer", _("Transferred to another unit")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="dispatch_feedback")
    suggestion = models.ForeignKey(Suggestion, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="feedback")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    predicted_label = models.CharField(max_length=100, blank=True)
    from_category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event_seq = models.PositiveIntegerField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("dispatch feedback")
        verbose_name_plural = _("dispatch feedback")
        constraints = [models.UniqueConstraint(fields=["case", "event_seq"], name="feedback_once_per_event")]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.event_seq} {self.kind}"
