"""Writes of the services app: submitting, working on and deciding applications; loading processes.

Rules:
- Every write runs in one transaction, locks the application row while its process moves
  (`select_for_update`), stores the process state after the step (`Application.workflow_state`),
  brings the work items in line with the process's waiting user tasks, and appends events
  (`events.record`). If the process raises, the whole step is rolled back: nothing half-done.
- Only `_set_status` assigns `Application.status`, with the moves of `workflow.MOVES`.
- A bad form or a bad file stores nothing: the answers and files are all checked before the
  first row is written.
- The legal limit (`due_at`) is `time_limit_days` working days after submission on the
  working-day calendar of cases (cases/deadlines.py); it is put into the process data as
  `legal_deadline` for its timers, which the worker fires (`application_timers_fire`).
- The outcome is sent to the citizen through the notifications outbox, in their language.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from govcrm.audit.actions import audit_record
from govcrm.cases.deadlines import calendar_from_db
from govcrm.channels.uploads import CleanFile, clean_document
from govcrm.citizens import crypto
from govcrm.common.errors import Forbidden, NotAllowed, NotFound, ValidationFailed
from govcrm.organization.models import Role

from . import engine, events, forms
from .models import (
    Application,
    ApplicationMaterial,
    ApplicationNumberSequence,
    ApplicationStatus,
    ProcessDefinition,
    ServiceItem,
    WorkItem,
)
from .workflow import FINAL, check_move


# ---------------------------------------------------------------------------- process definitions
def process_definition_load(*, key: str, bpmn_xml: str, dmn_xml: str = "", source: str = "",
                            actor=None) -> tuple[ProcessDefinition, bool]:
    """The definition of these files: the existing version if unchanged, else a new version.

    The files must parse (with SpiffWorkflow) before anything is stored."""
    if key not in engine.process_ids(bpmn_xml):
        raise ValidationFailed(_("The BPMN file has no executable process with the id %(key)s.") % {"key": key},
                               details={"bpmn_xml": key})
    try:
        parsed = engine.parse(key, bpmn_xml, dmn_xml)
    except engine.DefinitionInvalid as exc:
        raise ValidationFailed(_("The process does not load: %(error)s") % {"error": exc},
                               details={"bpmn_xml": str(exc)}) from exc
    digest = engine.checksum(bpmn_xml, dmn_xml)
    with transaction.atomic():
        existing = ProcessDefinition.objects.filter(key=key, checksum=digest).first()
        if existing:
            return existing, False
        last = (ProcessDefinition.objects.select_for_update().filter(key=key)
                .aggregate(m=Max("version"))["m"]) or 0
        definition = ProcessDefinition.objects.create(
            key=key, version=last + 1, name=str(parsed.spec.description or key)[:200], bpmn_xml=bpmn_xml,
            dmn_xml=dmn_xml, checksum=digest, source=source[:255], created_by=actor)
        audit_record(action="process.load", obj=definition, actor=actor,
                     detail={"key": key, "version": definition.version, "source": source})
    return definition, True


def process_definition_current(key: str) -> ProcessDefinition | None:
    return ProcessDefinition.objects.filter(key=key).order_by("-version").first()


def parsed_definition(definition: ProcessDefinition) -> engine.Parsed:
    return engine.parse(definition.key, definition.bpmn_xml, definition.dmn_xml)


# ---------------------------------------------------------------------------- helpers
def _next_number(now: dt.datetime) -> str:
    day = timezone.localtime(now).strftime("%Y%m%d")
    seq, _created = ApplicationNumberSequence.objects.select_for_update().get_or_create(day=day)
    seq.last += 1
    seq.save(update_fields=["last"])
    return f"SQ{day}{seq.last:05d}"


def _set_status(application: Application, to_status: str, *, actor=None, unit=None, note: str = "",
                data: dict | None = None, now: dt.datetime) -> None:
    from_status = application.status
    check_move(from_status, to_status)
    application.status = to_status
    if to_status == ApplicationStatus.SUBMITTED:
        application.submitted_at = now
    if to_status in FINAL:
        application.decided_at = now
    events.record(application, to_status, actor=actor, unit=unit, from_status=from_status, to_status=to_status,
                  note=note, data=data, public=True, at=now)


def _sensitive_fields(schema: dict | None) -> set[str]:
    return {name for name, prop in ((schema or {}).get("properties") or {}).items() if prop.get("x-sensitive")}


def _mask(value: str) -> str:
    value = str(value)
    return value[:4] + "*" * max(len(value) - 8, 0) + value[-4:] if len(value) > 8 else "*" * len(value)


def application_sensitive_data(*, application_id: int) -> dict[str, Any]:
    token = Application.objects.filter(pk=application_id).values_list("sensitive_data", flat=True).first()
    return json.loads(crypto.decrypt(token)) if token else {}


@dataclass(frozen=True)
class Upload:
    key: str
    name: str
    data: bytes


def _check_materials(service: ServiceItem, uploads: list[Upload]) -> list[tuple[str, CleanFile]]:
    """Every upload checked by content, and every required material present; else nothing stored."""
    keys = {m.get("key") for m in service.materials if m.get("key")}
    cleaned: list[tuple[str, CleanFile]] = []
    errors: dict[str, str] = {}
    for upload in uploads:
        if upload.key not in keys:
            continue
        try:
            cleaned.append((upload.key, clean_document(upload.data, upload.name, field=f"material_{upload.key}")))
        except ValidationFailed as exc:
            errors.update(exc.details or {f"material_{upload.key}": exc.message})
    present = {key for key, _f in cleaned}
    for material in service.materials:
        key = material.get("key")
        if key and material.get("required") and key not in present and f"material_{key}" not in errors:
            errors[f"material_{key}"] = _("This material is required.")
    if errors:
        raise ValidationFailed(_("Some materials are missing or not accepted."), details=errors)
    return cleaned


# ---------------------------------------------------------------------------- citizen side
def application_submit(*, service: ServiceItem, citizen, raw_form: Any, uploads: list[Upload] | None = None,
                       language: str = "zh-hans", now: dt.datetime | None = None) -> Application:
    """Check the form and files, create the application, start its process. Nothing stored on bad input."""
    now = now or timezone.now()
    if not (service.active and service.online and service.process_key):
        raise NotAllowed(_("This service cannot be applied for online."))
    definition = process_definition_current(service.process_key)
    if definition is None:
        raise NotAllowed(_("This service cannot be applied for online at the moment."))
    with translation.override(language):
        data, errors = forms.validate(service.form_schema, raw_form)
        try:
            cleaned = _check_materials(service, uploads or [])
        except ValidationFailed as exc:
            errors = {**exc.details, **errors}
        if errors:
            raise ValidationFailed(_("Please correct the marked fields."), details=errors)
    sensitive = {k: data[k] for k in _sensitive_fields(service.form_schema) if k in data}
    shown = {k: (_mask(v) if k in sensitive else v) for k, v in data.items()}
    due = calendar_from_db().add_work_days(now, service.time_limit_days)
    with transaction.atomic():
        application = Application.objects.create(
            number=_next_number(now), service=service, citizen=citizen, form_data=shown,
            sensitive_data=crypto.encrypt(json.dumps(sensitive)) if sensitive else "",
            language=language, unit=service.unit, created_at=now, due_at=due, process_definition=definition)
        events.record(application, "started", from_status="", to_status=ApplicationStatus.STARTED, at=now)
        for key, clean in cleaned:
            material = ApplicationMaterial(application=application, key=key, name=clean.name,
                                           content_type=clean.content_type, size=len(clean.data),
                                           sha256=clean.sha256, uploaded_at=now)
            material.file.save(f"{application.number}-{key}-{clean.sha256[:12]}", ContentFile(clean.data), save=False)
            material.save()
            events.record(application, "material_uploaded", data={"key": key, "sha256": clean.sha256}, at=now)
        _set_status(application, ApplicationStatus.SUBMITTED, now=now)
        process_data = {k: v for k, v in data.items() if k not in sensitive}
        process_data.update({
            "application_id": application.pk, "application_number": application.number,
            "submitted_on": timezone.localdate(now).isoformat(), "legal_deadline": due.isoformat(),
        })
        workflow = engine.start(parsed_definition(definition), process_data)
        _after_step(application, workflow, actor=None, now=now)
        audit_record(action="application.submit", obj=application, detail={"service": service.code})
    return application


def application_withdraw(*, application_id: int, citizen, now: dt.datetime | None = None) -> Application:
    now = now or timezone.now()
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application_id)
        if application.citizen_id != citizen.pk:
            raise Forbidden(_("This is not your application."))
        if application.status in FINAL:
            raise NotAllowed(_("This application is already closed."))
        _set_status(application, ApplicationStatus.WITHDRAWN, note=_("Withdrawn by the applicant."), now=now)
        WorkItem.objects.filter(application=application, state__in=[WorkItem.State.OPEN, WorkItem.State.CLAIMED]
                                ).update(state=WorkItem.State.CANCELLED, completed_at=now)
        application.current_steps = []
        application.version += 1
        application.save()
    return application


# ---------------------------------------------------------------------------- unit side
def _staff(actor):
    profile = getattr(actor, "staff", None)
    if profile is None:
        raise Forbidden(_("Only staff may do this."))
    return profile


def work_item_allowed(actor, item: WorkItem) -> bool:
    """A unit's handler or manager may do the unit's (or its sub-units') tasks of their role;
    a manager may also do the handlers' tasks of their unit."""
    profile = getattr(actor, "staff", None)
    if profile is None or not item.unit.path.startswith(profile.unit.path):
        return False
    if profile.role == Role.MANAGER:
        return item.role in {Role.HANDLER, Role.MANAGER}
    return profile.role == Role.HANDLER and item.role == Role.HANDLER


def _locked_item(work_item_id: int, actor) -> tuple[WorkItem, Application]:
    item = WorkItem.objects.select_related("unit").filter(pk=work_item_id).first()
    if item is None:
        raise NotFound(_("No such task."))
    if not work_item_allowed(actor, item):
        raise Forbidden(_("This task is not for your unit and role."))
    application = Application.objects.select_for_update().get(pk=item.application_id)
    item = WorkItem.objects.select_for_update().select_related("unit").get(pk=item.pk)
    return item, application


def work_item_claim(*, work_item_id: int, actor, now: dt.datetime | None = None) -> WorkItem:
    """Accept a task: it is now the actor's; the application is in review."""
    now = now or timezone.now()
    profile = _staff(actor)
    with transaction.atomic():
        item, application = _locked_item(work_item_id, actor)
        if item.state != WorkItem.State.OPEN:
            raise NotAllowed(_("This task has already been accepted or done."))
        item.state = WorkItem.State.CLAIMED
        item.claimed_by = actor
        item.save(update_fields=["state", "claimed_by"])
        events.record(application, "task_claimed", actor=actor, unit=profile.unit, step=item.task_spec, at=now)
        if application.status == ApplicationStatus.SUBMITTED:
            _set_status(application, ApplicationStatus.IN_REVIEW, actor=actor, unit=profile.unit, now=now)
            application.version += 1
            application.save()
        audit_record(action="application.claim", obj=application, actor=actor, detail={"claim": item.task_spec})
    return item


def work_item_complete(*, work_item_id: int, actor, raw_answers: Any, now: dt.datetime | None = None) -> Application:
    """Complete a claimed task with its form; the process moves on (and may decide)."""
    now = now or timezone.now()
    profile = _staff(actor)
    with transaction.atomic():
        item, application = _locked_item(work_item_id, actor)
        if item.state == WorkItem.State.OPEN:
            raise NotAllowed(_("Accept the task before deciding it."))
        if item.state != WorkItem.State.CLAIMED:
            raise NotAllowed(_("This task is already done."))
        if item.claimed_by_id != actor.pk and profile.role != Role.MANAGER:
            raise NotAllowed(_("Another handler has accepted this task."))
        answers, errors = forms.validate(item.form_schema, raw_answers)
        if errors:
            raise ValidationFailed(_("Please correct the marked fields."), details=errors)
        workflow = engine.load(application.workflow_state)
        engine.complete(workflow, item.task_id, answers)
        item.state = WorkItem.State.DONE
        item.completed_at = now
        item.save(update_fields=["state", "completed_at"])
        events.record(application, "task_completed", actor=actor, unit=profile.unit, step=item.task_spec,
                      data=answers, note=str(answers.get("note", "")), at=now)
        _after_step(application, workflow, actor=actor, now=now)
        audit_record(action="application.decide", obj=application, actor=actor, detail={"complete": item.task_spec})
    return application


# ---------------------------------------------------------------------------- timers (worker)
def application_timers_fire(*, now: dt.datetime | None = None) -> int:
    """Fire the due timers of open applications (the worker calls this periodically). Safe to run twice."""
    now = now or timezone.now()
    fired = 0
    candidates = (Application.objects.filter(status__in=[ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW],
                                             due_at__lte=now, workflow_state__isnull=False)
                  .values_list("pk", flat=True))
    for pk in list(candidates):
        with transaction.atomic():
            application = Application.objects.select_for_update().get(pk=pk)
            if not any(step.startswith("timer_") for step in application.current_steps):
                continue
            workflow = engine.load(application.workflow_state)
            before = set(engine.state(workflow).timers)
            engine.refresh(workflow)
            if set(engine.state(workflow).timers) != before:
                fired += 1
                _after_step(application, workflow, actor=None, now=now)
    return fired


# ---------------------------------------------------------------------------- after each step
def _after_step(application: Application, workflow, *, actor, now: dt.datetime) -> None:
    """Store the state, sync work items, write the events of the automatic steps, decide if ended."""
    parsed = parsed_definition(application.process_definition)
    state = engine.state(workflow)
    seen = set(application.events.exclude(step="").values_list("kind", "step"))
    for spec_id in engine.completed_steps(workflow):
        kind = _automatic_kind(spec_id, workflow)
        if kind and (kind, spec_id) not in seen:
            data = engine.step_result(workflow, spec_id)
            events.record(application, kind, step=spec_id, data=data, at=now,
                          unit=application.unit if kind == "escalated" else None)
            seen.add((kind, spec_id))
            if kind == "escalated":
                application.escalated_at = application.escalated_at or now
    waiting_ids = {w.task_id for w in state.waiting}
    existing = {wi.task_id: wi for wi in application.work_items.all()}
    for wi in existing.values():
        if wi.task_id not in waiting_ids and wi.state in {WorkItem.State.OPEN, WorkItem.State.CLAIMED}:
            wi.state = WorkItem.State.CANCELLED
            wi.completed_at = now
            wi.save(update_fields=["state", "completed_at"])
    for waiting in state.waiting:
        if waiting.task_id in existing:
            continue
        info = parsed.user_tasks[waiting.spec_id]
        WorkItem.objects.create(application=application, task_id=waiting.task_id, task_spec=waiting.spec_id,
                                name=info.name, unit=application.unit, role=info.role, created_at=now,
                                form_schema=info.form_schema)
        events.record(application, "task_created", step=waiting.spec_id, unit=application.unit,
                      data={"role": info.role, "task": info.name}, at=now)
    application.workflow_state = engine.dump(workflow)
    application.current_steps = [w.spec_id for w in state.waiting] + state.timers
    if state.completed and state.outcome and application.status not in FINAL:
        with translation.override(application.citizen.language or application.language):
            reason = _decision_reason(state.data)  # stored and shown to the citizen: in their language
        application.decision_reason = reason
        _set_status(application, state.outcome, actor=actor, unit=application.unit, note=reason,
                    data={k: v for k, v in state.data.items() if k in {"eligible", "monthly_amount", "rule_reason"}},
                    now=now)
        _notify_outcome(application, now=now)
    application.version += 1
    application.save()


def _automatic_kind(spec_id: str, workflow) -> str | None:
    cls = engine.spec_class(workflow, spec_id)
    if cls == "BusinessRuleTask":
        return "rule_decided"
    if cls == "ServiceTask":
        return "escalated" if spec_id.startswith("escalate_") else "service_task"
    if cls == "BoundaryEvent" and spec_id.startswith("timer_"):
        return "timer_fired"
    return None


RULE_REASONS = {
    "resided_less_than_six_months": gettext_lazy("You have lived in the city for less than six months."),
    "no_qualifying_basis": gettext_lazy("Stable employment, stable housing or study is required."),
    "under_80": gettext_lazy("The allowance starts at the age of 80."),
    "resident_under_5_years": gettext_lazy("Five years of registration in the city are required."),
}


def _decision_reason(data: dict) -> str:
    """The note of the last human decision, else the DMN table's reason, else the identity check."""
    for key in ("approval", "issue", "verify", "check", "review"):
        answer = data.get(key)
        if isinstance(answer, dict) and answer.get("decision") in {"reject"} and answer.get("note"):
            return str(answer["note"])
    if data.get("eligible") is False and data.get("rule_reason") in RULE_REASONS:
        return str(RULE_REASONS[data["rule_reason"]])
    if isinstance(data.get("identity"), dict) and data["identity"].get("valid") is False:
        return _("The ID number could not be verified.")
    if isinstance(data.get("registry"), dict) and data["registry"].get("found") is False:
        return _("The enterprise is not in the register under this credit code.")
    for key in ("approval", "issue", "check", "review"):
        answer = data.get(key)
        if isinstance(answer, dict) and answer.get("note"):
            return str(answer["note"])
    return ""


def _notify_outcome(application: Application, *, now: dt.datetime) -> None:
    from govcrm.notifications.actions import notification_for_application

    language = application.citizen.language or application.language
    with translation.override(language):
        context = {"application": application, "service_name": application.service.name}
        subject = render_to_string("services/notification_subject.txt", context).strip()
        body = render_to_string("services/notification_body.txt", context).strip()
    event = events.record(application, "citizen_notified", at=now, data={"language": language})
    notification_for_application(application=application, event=event, subject=subject, body=body)
