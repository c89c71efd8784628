"""The service catalogue and process definitions in the admin.

- Service items are edited here (the catalogue is reference data); the form schema is JSON.
- A process definition is added by uploading its BPMN file (and DMN file): the files must load in
  SpiffWorkflow, and a changed file becomes a new version (`actions.process_definition_load`);
  versions are never edited, so running applications keep theirs.
- Applications, their events and work items are read-only: every change goes through the
  console or the portal, so that it passes the process and leaves an event.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import engine
from .actions import process_definition_load
from .models import Application, ApplicationEvent, ProcessDefinition, ServiceItem, WorkItem

MAX_PROCESS_FILE = 2_000_000


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "unit", "time_limit_days", "online", "process_key", "active")
    list_filter = ("online", "active")
    search_fields = ("code", "name_zh", "name_en")
    raw_id_fields = ("unit",)


class ProcessUploadForm(forms.ModelForm):
    bpmn_file = forms.FileField(label=_("BPMN file"))
    dmn_file = forms.FileField(label=_("DMN file (optional)"), required=False)

    class Meta:
        model = ProcessDefinition
        fields = ("key",)

    @staticmethod
    def _text(upload) -> str:
        if upload is None:
            return ""
        if upload.size > MAX_PROCESS_FILE:
            raise ValidationError(_("The file is larger than 2 MB."))
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(_("The file is not UTF-8 text.")) from exc

    def clean(self):
        data = super().clean()
        try:
            data["bpmn_xml"] = self._text(data.get("bpmn_file"))
            data["dmn_xml"] = self._text(data.get("dmn_file"))
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        key = data.get("key") or ""
        try:
            if key not in engine.process_ids(data["bpmn_xml"]):
                raise ValidationError(_("The BPMN file has no executable process with the id %(key)s.") % {"key": key})
            engine.parse(key, data["bpmn_xml"], data["dmn_xml"])
        except engine.DefinitionInvalid as exc:
            raise ValidationError(_("The process does not load: %(error)s") % {"error": exc}) from exc
        return data


@admin.register(ProcessDefinition)
class ProcessDefinitionAdmin(admin.ModelAdmin):
    list_display = ("key", "version", "name", "source", "created_at", "created_by")
    list_filter = ("key",)
    readonly_fields = ("key", "version", "name", "checksum", "source", "created_at", "created_by", "bpmn_xml",
                       "dmn_xml")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ProcessUploadForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    def get_fields(self, request, obj=None):
        return ("key", "bpmn_file", "dmn_file") if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        definition, created = process_definition_load(
            key=data["key"], bpmn_xml=data["bpmn_xml"], dmn_xml=data["dmn_xml"],
            source=getattr(data.get("bpmn_file"), "name", ""), actor=request.user)
        obj.pk = definition.pk
        obj.__dict__.update({k: v for k, v in definition.__dict__.items() if not k.startswith("_")})
        if not created:
            messages.info(request, _("These files are already loaded as %(definition)s.") % {"definition": definition})


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ("number", "service", "status", "unit", "created_at", "due_at", "decided_at")
    list_filter = ("status", "service")
    search_fields = ("number",)
    exclude = ("sensitive_data", "workflow_state", "form_data")


@admin.register(ApplicationEvent)
class ApplicationEventAdmin(ReadOnlyAdmin):
    list_display = ("application", "seq", "kind", "step", "at", "actor", "unit")
    list_filter = ("kind",)


@admin.register(WorkItem)
class WorkItemAdmin(ReadOnlyAdmin):
    list_display = ("application", "task_spec", "unit", "role", "state", "claimed_by", "created_at")
    list_filter = ("state", "role")
