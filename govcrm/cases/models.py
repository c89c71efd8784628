"""Cases (工单), their immutable event history, and the reference data that steers them.

Only `actions.case_transition` assigns `Case.status`; events are append-only.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from govcrm.common.models import BilingualNameMixin, TimestampedModel
from govcrm.common.reference import InvalidatesReferenceCache
from govcrm.organization.models import Area, Unit

from .workflow import Status


class Category(InvalidatesReferenceCache, BilingualNameMixin, TimestampedModel):
    """Three levels: e.g. 城乡建设 → 市政设施 → 路灯. Only leaves are chosen at intake."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    level = models.PositiveSmallIntegerField(default=1, editable=False)
    active = models.BooleanField(default=True)
    keywords = models.CharField(max_length=400, blank=True, help_text=_("Search words for the picker."))

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code"]

    def save(self, *args, **kwargs):
        self.level = (self.parent.level + 1) if self.parent else 1
        if self.level > 3:
            raise ValidationError("Categories have at most three levels")
        super().save(*args, **kwargs)


class CaseType(models.TextChoices):
    INQUIRY = "inquiry", _("Inquiry")
    HELP = "help", _("Help request")
    COMPLAINT = "complaint", _("Complaint")
    REPORT = "report", _("Report")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    CRITICAL = "critical", _("Critical")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    PORTAL = "portal", _("Portal")
    OPEN311 = "open311", _("Open311 API")
    API = "api", _("API")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    FAX = "fax", _("Fax")
    WALK_IN = "walk_in", _("Walk-in")
    # A task the centre opens itself from an early warning (主动治理, 未诉先办); see govcrm/topics.
    PROACTIVE = "proactive", _("Proactive")


class Case(TimestampedModel):
    number = models.CharField(_("case number"), max_length=20, unique=True)
    query_code = models.CharField(_("query code"), max_length=8)
    case_type = models.CharField(_("case type"), max_length=16, choices=CaseType.choices)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REGISTERED,
                              editable=False)
    close_reason = models.CharField(max_length=24, blank=True, editable=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.PHONE)
    title = models.CharField(_("title"), max_length=200, blank=True)
    description = models.TextField(_("description"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    area = models.ForeignKey(Area, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    citizen = models.ForeignKey("citizens.Citizen", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="cases")
    language = models.CharField(max_length=8, default="zh-hans")
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    # Lead unit 主办 of the current dispatch; co-handlers 协办 are in CaseAssignment.
    lead_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    dispatch_count = models.PositiveSmallIntegerField(default=0)
    return_count = models.PositiveSmallIntegerField(default=0)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    supervision_level = models.PositiveSmallIntegerField(default=0)
    # Deadlines of the current round (recomputed at dispatch, shifted by pauses and extensions).
    accept_due = models.DateTimeField(null=True, blank=True)
    contact_due = models.DateTimeField(null=True, blank=True)
    reply_due = models.DateTimeField(null=True, blank=True, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    first_contact_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=32, blank=True)
    extension_pending_days = models.PositiveSmallIntegerField(null=True, blank=True)
    reply = models.TextField(_("reply to the citizen"), blank=True)
    resolved = models.BooleanField(null=True)
    satisfied = models.BooleanField(null=True)
    rating = models.PositiveSmallIntegerField(null=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged")
    # Words of description, title and address as segmented text (jieba for Chinese), for full-text search.
    search_text = models.TextField(default="", editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    # When the retention rule (cases/retention.py) removed the personal data of this closed case.
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["status", "reply_due"], name="case_status_due"),
            models.Index(fields=["lead_unit", "status", "reply_due"], name="case_unit_status_due"),
            models.Index(fields=["category", "created_at"], name="case_category_created"),
            models.Index(fields=["area", "created_at"], name="case_area_created"),
            models.Index(fields=["status", "id"], name="case_status_id"),
            # The dispatcher's queue (to_dispatch): two statuses in id order. Through (status, id) the
            # planner walks the primary key past every closed case instead (180 ms at 200,000 cases).
            models.Index(fields=["id"], name="case_to_dispatch",
                         condition=models.Q(status__in=["registered", "returned"])),
            models.Index(fields=["status"], name="case_extension_pending",
                         condition=models.Q(extension_pending_days__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status != Status.CLOSED

    @property
    def reporter_confidential(self) -> bool:
        return self.case_type == CaseType.REPORT


class CaseAssignment(models.Model):
    """A unit's part in a case: the lead 主办 or a co-handler 协办, current or past."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead unit")
        CO = "co", _("Co-handler")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(max_length=8, choices=Role.choices)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["unit", "active", "case"], name="assignment_unit_active")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.role} {self.unit_id}"


class ImmutableError(Exception):
    pass


class CaseEvent(models.Model):
    """One move of a case: who, when, from which state to which, why, with what data. Never edited."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    action = models.CharField(max_length=32)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_name = models.CharField(max_length=150)
    actor_role = models.CharField(max_length=16)
    actor_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    reason_code = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(default=False, help_text=_("Shown to the citizen when tracking the case."))

    class Meta:
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError("Case events are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("Case events are immutable")


class IdempotencyRecord(models.Model):
    """A POST that carried an Idempotency-Key: a retry gets the first case back."""

    key = models.CharField(max_length=200)
    scope = models.CharField(max_length=100, help_text="who sent it: a user id or a client name")
    request_hash = models.CharField(max_length=64)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class CaseNumberSequence(models.Model):
    """The last number given out per day; rows are locked while a number is drawn."""

    day = models.CharField(max_length=8, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class DeadlinePolicy(InvalidatesReferenceCache, TimestampedModel):
    """Time limits per category × urgency; a category's policy applies to its whole subtree.

    The most specific policy wins: the case's leaf category, then its parents, then the
    default (no category). Hours are working hours; days are working days.
    """

    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="deadline_policies")
    urgency = models.CharField(max_length=16, choices=Urgency.choices)
    accept_hours = models.PositiveIntegerField(_("accept within (working hours)"))
    contact_hours = models.PositiveIntegerField(_("first contact within (working hours)"))
    reply_days = models.PositiveIntegerField(_("reply within (working days)"))

    class Meta:
        verbose_name = _("deadline policy")
        verbose_name_plural = _("deadline policies")
        constraints = [
            models.UniqueConstraint(fields=["category", "urgency"], name="deadline_policy_unique",
                                    condition=models.Q(category__isnull=False)),
            models.UniqueConstraint(fields=["urgency"], name="deadline_policy_default_unique",
                                    condition=models.Q(category__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.category or '*'} / {self.urgency}"


class CalendarOverride(InvalidatesReferenceCache, TimestampedModel):
    """A local exception to the national calendar: an extra holiday or working day."""

    date = models.DateField(unique=True)
    is_workday = models.BooleanField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'workday' if self.is_workday else 'holiday'}"


class DispatchRule(InvalidatesReferenceCache, TimestampedModel):
    """category × area → responsible unit. The most specific matching rule wins."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="dispatch_rules")
    area = models.ForeignKey(Area, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             help_text=_("Empty: the whole city."))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="dispatch_rules")
    co_units = models.ManyToManyField(Unit, blank=True, related_name="+")
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("dispatch rule")
        verbose_name_plural = _("dispatch rules")
        constraints = [
            models.UniqueConstraint(fields=["category", "area"], name="dispatch_rule_unique",
                                    condition=models.Q(area__isnull=False)),
            models.UniqueConstraint(fields=["category"], name="dispatch_rule_citywide_unique",
                                    condition=models.Q(area__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.category.code} @ {self.area.code if self.area else '*'} → {self.unit.code}"
