"""Hot topics of a period (one `TopicRun` each time they are computed) and early warnings.

Topics are recomputed, not edited: a run stores its topics and their cases as found. A warning
outlives the runs (its subject is kept as text, its topic link may go); its status moves
new → dismissed or new → converted (then `task` is the proactive case opened for it), only
through `actions.warning_dismiss` / `actions.warning_convert`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TopicRun(models.Model):
    period_start = models.DateTimeField(_("from"))
    period_end = models.DateTimeField(_("to"))
    params = models.JSONField(default=dict)
    case_count = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("topic run")
        verbose_name_plural = _("topic runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.period_start:%Y-%m-%d} – {self.period_end:%Y-%m-%d}"


class Topic(models.Model):
    run = models.ForeignKey(TopicRun, on_delete=models.CASCADE, related_name="topics")
    rank = models.PositiveIntegerField()
    terms = models.JSONField(_("top terms"), default=list)
    representative = models.ForeignKey("cases.Case", null=True, on_delete=models.SET_NULL, related_name="+")
    size = models.PositiveIntegerField(_("cases"))
    area = models.ForeignKey("organization.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    daily = models.JSONField(default=list, help_text="cases per day of the run's period, oldest first")
    channels = models.JSONField(default=dict, help_text="cases per channel")
    cases = models.ManyToManyField("cases.Case", through="TopicCase", related_name="+")

    class Meta:
        verbose_name = _("hot topic")
        verbose_name_plural = _("hot topics")
        ordering = ["run", "rank"]
        constraints = [models.UniqueConstraint(fields=["run", "rank"], name="topic_run_rank_unique")]

    def __str__(self) -> str:
        return " ".join(self.terms)


class TopicCase(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="links")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    similarity = models.FloatField(default=0, help_text="cosine similarity to the topic's centroid")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "case"], name="topic_case_unique")]

    def __str__(self) -> str:
        return f"{self.topic_id}:{self.case_id}"


class Warning(models.Model):
    class Kind(models.TextChoices):
        TOPIC = "topic", _("Hot topic")
        AREA = "area", _("Area")
        CATEGORY_AREA = "category_area", _("Category in an area")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        DISMISSED = "dismissed", _("Dismissed")
        CONVERTED = "converted", _("Turned into a task")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=200, help_text="topic terms, or area / category codes")
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="warnings")
    area = models.ForeignKey("organization.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey("cases.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    window_start = models.DateTimeField(_("window from"))
    window_end = models.DateTimeField(_("window to"))
    observed = models.PositiveIntegerField(_("observed"))
    expected = models.FloatField(_("expected"))
    p_value = models.FloatField(_("p-value"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    source_cases = models.ManyToManyField("cases.Case", related_name="+", verbose_name=_("source cases"))
    task = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("proactive task"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("early warning")
        verbose_name_plural = _("early warnings")
        ordering = ["-window_end", "-id"]
        indexes = [models.Index(fields=["status", "window_end"], name="warning_status_end"),
                   models.Index(fields=["kind", "subject", "window_end"], name="warning_subject_end")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.subject} {self.observed}/{self.expected:.1f}"
