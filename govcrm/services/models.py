"""The service catalogue (政务服务事项), process definitions and citizens' applications.

Rules:
- A `ServiceItem` is one public service of a unit. An online item names the BPMN process
  (`process_key`) that runs its applications; an offline item is only described.
- A `ProcessDefinition` is one version of a BPMN file (and its DMN tables). Versions are never
  edited: loading a changed file makes a new version; an application keeps the version it
  started on (`Application.process_definition`).
- Only `actions.py` assigns `Application.status`, with the moves in `workflow.py`; every
  status change and every process step appends one `ApplicationEvent` (never edited) through
  `events.record`, which sends the `application_event` signal after the commit.
- `Application.workflow_state` is the SpiffWorkflow serialisation after the last step, so an
  application survives restarts of the web server and the worker.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from govcrm.common.models import BilingualNameMixin, TimestampedModel
from govcrm.organization.models import Unit


def _bilingual(zh: str, en: str) -> str:
    lang = get_language() or "zh-hans"
    return en if lang.startswith("en") and en else zh


class ServiceItem(BilingualNameMixin, TimestampedModel):
    """One public service: who provides it, on what legal basis, what to bring, how long it takes."""

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online (portal)")
        COUNTER = "counter", _("Service hall counter")
        MAIL = "mail", _("Post")
        PHONE = "phone", _("Phone")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="service_items",
                             verbose_name=_("responsible unit"))
    legal_basis = models.TextField(_("legal basis"), blank=True)
    legal_basis_en = models.TextField(_("legal basis (English)"), blank=True)
    # [{"name_zh": ..., "name_en": ..., "required": bool}, ...]; `key` (optional) names the upload field.
    materials = models.JSONField(_("required materials"), default=list, blank=True)
    fee = models.CharField(_("fee"), max_length=200, blank=True, help_text=_("Empty or 0: free of charge."))
    fee_en = models.CharField(_("fee (English)"), max_length=200, blank=True)
    time_limit_days = models.PositiveSmallIntegerField(_("legal time limit (working days)"))
    online = models.BooleanField(_("can be applied for online"), default=False)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    form_schema = models.JSONField(_("application form (JSON Schema)"), null=True, blank=True)
    process_key = models.CharField(_("BPMN process id"), max_length=100, null=True, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        ordering = ["code"]

    def clean(self) -> None:
        """A form schema must be a JSON Schema the portal can draw; materials need their names."""
        import jsonschema
        from django.core.exceptions import ValidationError

        errors = {}
        if self.form_schema is not None:
            try:
                jsonschema.Draft202012Validator.check_schema(self.form_schema)
                if self.form_schema.get("type") != "object" or not isinstance(self.form_schema.get("properties"), dict):
                    raise jsonschema.SchemaError("the form must be an object with properties")
            except (jsonschema.SchemaError, AttributeError) as exc:
                message = getattr(exc, "message", exc)
                errors["form_schema"] = _("Not a usable JSON Schema: %(error)s") % {"error": message}
        if not isinstance(self.materials, list) or any(
                not isinstance(m, dict) or not m.get("name_zh") for m in self.materials):
            errors["materials"] = _("A list of objects, each with at least name_zh (and name_en, required, key).")
        if self.online and not (self.process_key and self.form_schema):
            errors["online"] = _("An online item needs a BPMN process id and a form schema.")
        if errors:
            raise ValidationError(errors)

    @property
    def description(self) -> str:
        return _bilingual(self.description_zh, self.description_en)

    @property
    def legal_basis_text(self) -> str:
        return _bilingual(self.legal_basis, self.legal_basis_en)

    @property
    def fee_text(self) -> str:
        return _bilingual(self.fee, self.fee_en)


class ProcessDefinition(models.Model):
    """One immutable version of a BPMN process (and the DMN tables it calls)."""

    key = models.CharField(_("process id"), max_length=100)
    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    bpmn_xml = models.TextField(_("BPMN XML"))
    dmn_xml = models.TextField(_("DMN XML"), blank=True)
    checksum = models.CharField(max_length=64, editable=False)
    source = models.CharField(_("source file"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("process definition")
        verbose_name_plural = _("process definitions")
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="process_definition_version_unique"),
            models.UniqueConstraint(fields=["key", "checksum"], name="process_definition_checksum_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"


class ApplicationStatus(models.TextChoices):
    STARTED = "started", _("Started")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Application(models.Model):
    """A citizen's application for a service item (办件)."""

    number = models.CharField(_("application number"), max_length=24, unique=True)
    service = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="applications")
    citizen = models.ForeignKey("citizens.Citizen", on_delete=models.PROTECT, related_name="applications")
    status = models.CharField(_("status"), max_length=16, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.STARTED, editable=False)
    form_data = models.JSONField(_("form data"), default=dict, blank=True)
    # The form's `x-sensitive` answers (ID numbers), Fernet-encrypted JSON (citizens/crypto.py);
    # form_data holds them masked. They never enter the workflow data.
    sensitive_data = models.TextField(blank=True, editable=False)
    language = models.CharField(max_length=8, default="zh-hans")
    # The unit responsible for the application (the service item's unit when it was submitted).
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    # The legal time limit: submitted_at + service.time_limit_days working days.
    due_at = models.DateTimeField(_("due"), null=True, blank=True, db_index=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    # The process version this application runs on, and its serialised state after the last step.
    process_definition = models.ForeignKey(ProcessDefinition, null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="applications")
    # JSON text, kept byte for byte: SpiffWorkflow's restore depends on the order of its keys, which
    # PostgreSQL's jsonb would not keep.
    workflow_state = models.TextField(null=True, blank=True, editable=False)
    # BPMN element ids of the steps waiting now (user tasks, timers), for the diagram.
    current_steps = models.JSONField(default=list, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["citizen", "created_at"], name="application_citizen_created"),
            models.Index(fields=["status", "due_at"], name="application_status_due"),
            models.Index(fields=["unit", "status"], name="application_unit_status"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in {ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW}


class ApplicationMaterial(models.Model):
    """A file a citizen uploaded with an application, checked by content (channels/uploads.py)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="materials")
    key = models.CharField(max_length=64, help_text=_("The material of the service item it answers."))
    file = models.FileField(upload_to="applications/%Y/%m/")
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class WorkItem(models.Model):
    """A BPMN user task waiting for a unit's staff: the console queue of applications."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLAIMED = "claimed", _("Accepted")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="work_items")
    task_id = models.CharField(max_length=64, help_text="SpiffWorkflow task uuid")
    task_spec = models.CharField(max_length=100, help_text="BPMN element id")
    name = models.CharField(max_length=200)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="application_work_items")
    role = models.CharField(max_length=16, help_text="organization.Role that may do it")
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    form_schema = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("work item")
        verbose_name_plural = _("work items")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["unit", "state"], name="workitem_unit_state")]
        constraints = [models.UniqueConstraint(fields=["application", "task_id"], name="workitem_task_unique")]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.task_spec}"


class ImmutableError(Exception):
    pass


class ApplicationEvent(models.Model):
    """One step of an application: a status change, a task done, a timer fired. Never edited."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=32)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    # The BPMN element the step belongs to (task id), for the diagram and process mining.
    step = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(default=False, help_text=_("Shown to the citizen on the status page."))

    class Meta:
        ordering = ["application", "seq"]
        constraints = [models.UniqueConstraint(fields=["application", "seq"], name="application_event_seq_unique")]
        indexes = [models.Index(fields=["kind", "at"], name="application_event_kind_at")]

    def __str__(self) -> str:
        return f"{self.application_id}#{self.seq} {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError("Application events are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("Application events are immutable")


class ApplicationNumberSequence(models.Model):
    """The last application number given out per day; the row is locked while a number is drawn."""

    day = models.CharField(max_length=8, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"
