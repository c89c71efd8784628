"""Applications in the staff console, under /console/applications/…

- `queue` GET: the applications past their legal limit (督办: supervisors see the city's, a unit
  its own), then the tasks waiting for the actor's unit and role (handlers and managers), oldest
  legal limit first; centre roles see the latest applications of the city instead.
- `detail` GET: one application (scoped: the unit's subtree, or the centre): form answers
  (sensitive ones masked), materials, history, the process diagram with the current step
  highlighted, and the form of the task the actor may do.
- `claim` / `complete` POST: accept a task, decide it with its form (errors re-render, 422).
- `material` GET: a material's file, for those who may see the application.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from govcrm.audit.actions import audit_record
from govcrm.common.errors import DomainError, Forbidden, NotFound
from govcrm.console.access import staff_view

from . import actions, engine, forms, queries
from .models import ApplicationMaterial, WorkItem


@require_GET
@staff_view
def queue(request):
    items = queries.work_items_for(request.actor)[:200]
    recent = queries.applications_for_staff(request.actor).order_by("-created_at")[:50] \
        if request.actor.is_centre else []
    overdue = queries.overdue_for_staff(request.actor)[:100]
    return render(request, "services/console_queue.html", {"items": items, "recent": recent, "overdue": overdue})


def _detail_context(request, application, *, task_errors=None, task_values=None, task_error=""):
    user_items = [wi for wi in application.work_items.select_related("unit", "claimed_by")
                  if wi.state in {WorkItem.State.OPEN, WorkItem.State.CLAIMED}]
    mine = next((wi for wi in user_items if actions.work_item_allowed(request.user, wi)), None)
    definition = application.process_definition
    done: list[str] = []
    if application.workflow_state:
        done = engine.completed_steps(engine.load(application.workflow_state))
    schema = application.service.form_schema or {}
    answers = [(forms.label(schema.get("properties", {}).get(k, {}), k), v) for k, v in application.form_data.items()]
    return {
        "application": application, "answers": answers, "events": application.events.select_related("actor", "unit"),
        "materials": application.materials.all(), "open_items": user_items, "task": mine,
        "task_fields": forms.fields(mine.form_schema, task_values, task_errors) if mine else [],
        "task_error": task_error,
        "diagram": {"xml": definition.bpmn_xml, "current": application.current_steps, "done": done}
        if definition else None,
    }


@require_GET
@staff_view
def detail(request, number: str):
    application = queries.application_for_staff(request.actor, number)
    return render(request, "services/console_detail.html", _detail_context(request, application))


@require_POST
@staff_view
def claim(request, number: str, item_id: int):
    application = queries.application_for_staff(request.actor, number)
    try:
        actions.work_item_claim(work_item_id=_item_of(application, item_id).pk, actor=request.user)
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("You have accepted the task."))
    return redirect("applications:detail", number=number)


def _item_of(application, item_id: int) -> WorkItem:
    item = application.work_items.filter(pk=item_id).first()
    if item is None:
        raise NotFound("no such task")
    return item


@require_POST
@staff_view
def complete(request, number: str, item_id: int):
    application = queries.application_for_staff(request.actor, number)
    item = _item_of(application, item_id)
    try:
        actions.work_item_complete(work_item_id=item.pk, actor=request.user, raw_answers=request.POST)
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        values = {k: request.POST.get(k, "") for k in (item.form_schema or {}).get("properties", {})}
        context = _detail_context(request, application, task_errors=exc.details, task_values=values,
                                  task_error=exc.message)
        return render(request, "services/console_detail.html", context, status=exc.status)
    messages.success(request, _("The task is done."))
    return redirect("applications:detail", number=number)


@require_GET
@staff_view
def material(request, number: str, material_id: int):
    application = queries.application_for_staff(request.actor, number)
    found = ApplicationMaterial.objects.filter(application=application, pk=material_id).first()
    if found is None:
        raise NotFound("no such material")
    audit_record(action="application.material_read", obj=application, actor=request.user,
                 detail={"material": found.key})
    response = FileResponse(found.file.open("rb"), content_type=found.content_type, as_attachment=True,
                            filename=found.name)
    response["X-Content-Type-Options"] = "nosniff"
    return response
