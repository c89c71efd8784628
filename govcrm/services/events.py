"""The application event log: `record` appends one ApplicationEvent and announces it.

Rules:
- Every status change and every process step (task done, timer fired, escalation, material
  uploaded) is one `ApplicationEvent`, appended in the caller's transaction; events are never
  edited or deleted.
- After the transaction commits, the signal `application_event` is sent with
  `event=<ApplicationEvent>` (sender: ApplicationEvent). Receivers (webhooks, warehouse) run after the
  commit, so a rolled-back step announces nothing, and a failing receiver cannot undo the step:
  its exception is logged, not raised.
"""

from __future__ import annotations

import logging
from typing import Any

import django.dispatch
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .models import Application, ApplicationEvent

log = logging.getLogger(__name__)

# Sent after the commit of each new ApplicationEvent: receiver(sender, event, **kwargs).
application_event = django.dispatch.Signal()

# The kinds of event written by this app (other values may be added; consumers should ignore unknown kinds).
KINDS = {
    "started": "the application was created (form not yet submitted)",
    "submitted": "the citizen submitted the form; the process started",
    "material_uploaded": "a file came with the application",
    "task_created": "a user task is waiting for a unit (data: task, role)",
    "task_claimed": "a handler accepted the task",
    "task_completed": "a handler completed the task (data: the task form's answers)",
    "service_task": "an integration was called by a service task (data: result)",
    "rule_decided": "a DMN table decided (data: the outputs)",
    "in_review": "status changed to in_review",
    "approved": "status changed to approved (final)",
    "rejected": "status changed to rejected (final)",
    "withdrawn": "the citizen withdrew the application (final)",
    "timer_fired": "a timer event of the process fired (data: timer)",
    "escalated": "the legal time limit passed: the application is marked overdue in the unit's queue",
    "citizen_notified": "the outcome was sent to the citizen",
}


def record(application: Application, kind: str, *, actor=None, unit=None, from_status: str = "",
           to_status: str = "", step: str = "", note: str = "", data: dict[str, Any] | None = None,
           public: bool = False, at=None) -> ApplicationEvent:
    """Append one event to the application's history (call inside the step's transaction)."""
    last = ApplicationEvent.objects.filter(application=application).aggregate(m=Max("seq"))["m"] or 0
    event = ApplicationEvent.objects.create(
        application=application, seq=last + 1, kind=kind, at=at or timezone.now(), actor=actor, unit=unit,
        from_status=from_status, to_status=to_status, step=step, note=note, data=data or {}, public=public,
    )
    transaction.on_commit(lambda: _announce(event))
    return event


def _announce(event: ApplicationEvent) -> None:
    for receiver, result in application_event.send_robust(sender=ApplicationEvent, event=event):
        if isinstance(result, Exception):
            log.error("application_event receiver %r failed for event %s", receiver, event.pk,
                      exc_info=result)
