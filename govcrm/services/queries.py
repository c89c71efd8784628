"""Reads of the services app, scoped by who asks.

- Citizens see the active catalogue, and only their own applications (by the citizen record of
  their signed-in identity).
- Staff of a unit (handler, manager) see the applications and tasks of their unit's subtree;
  hotline-centre roles see every application (to answer a caller's question) but have no tasks.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from govcrm.common.errors import NotFound
from govcrm.organization.models import Role
from govcrm.organization.queries import Actor

from .models import Application, ApplicationEvent, ServiceItem, WorkItem

TAGS = ("elderly", "business", "family", "housing", "residence", "health")


def catalogue(*, query: str = "", tag: str = "", online_only: bool = False) -> QuerySet[ServiceItem]:
    items = ServiceItem.objects.filter(active=True).select_related("unit")
    if query:
        items = items.filter(Q(name_zh__icontains=query) | Q(name_en__icontains=query)
                             | Q(description_zh__icontains=query) | Q(description_en__icontains=query))
    if online_only:
        items = items.filter(online=True)
    items = items.order_by("-online", "code")
    if tag:
        # JSON "contains" is not on SQLite; the catalogue is small (hundreds), so filter in Python.
        return [i for i in items if tag in (i.tags or [])]  # type: ignore[return-value]
    return items


def service_item(code: str) -> ServiceItem:
    item = ServiceItem.objects.select_related("unit").filter(code=code, active=True).first()
    if item is None:
        raise NotFound("no such service")
    return item


def applications_of_citizen(citizen) -> QuerySet[Application]:
    if citizen is None:
        return Application.objects.none()
    return Application.objects.filter(citizen=citizen).select_related("service").order_by("-created_at")


def application_of_citizen(citizen, number: str) -> Application:
    found = applications_of_citizen(citizen).filter(number=number).first()
    if found is None:
        raise NotFound("no such application")
    return found


def public_events(application: Application) -> QuerySet[ApplicationEvent]:
    return application.events.filter(public=True).order_by("seq")


def _unit_scope(actor: Actor) -> Q:
    return Q(unit__path__startswith=actor.unit_path)


def applications_for_staff(actor: Actor) -> QuerySet[Application]:
    qs = Application.objects.select_related("service", "unit", "citizen")
    if actor.is_centre:
        return qs
    if actor.role not in {Role.HANDLER, Role.MANAGER}:
        return qs.none()
    return qs.filter(_unit_scope(actor))


def application_for_staff(actor: Actor, number: str) -> Application:
    found = applications_for_staff(actor).filter(number=number).first()
    if found is None:
        raise NotFound("no such application")
    return found


def work_items_for(actor: Actor) -> QuerySet[WorkItem]:
    """Open tasks of the actor's unit subtree and role (managers also see their handlers'), and
    the tasks the actor accepted."""
    if actor.role not in {Role.HANDLER, Role.MANAGER}:
        return WorkItem.objects.none()
    roles = [Role.HANDLER, Role.MANAGER] if actor.role == Role.MANAGER else [Role.HANDLER]
    return (WorkItem.objects.filter(unit__path__startswith=actor.unit_path, role__in=roles,
                                    state__in=[WorkItem.State.OPEN, WorkItem.State.CLAIMED])
            .select_related("application", "application__service", "unit", "claimed_by")
            .order_by("application__due_at", "created_at"))


def overdue_for_staff(actor: Actor) -> QuerySet[Application]:
    """Open applications past their legal limit (escalated by the process's timer), in the actor's scope."""
    return (applications_for_staff(actor)
            .filter(escalated_at__isnull=False, status__in=["submitted", "in_review"])
            .order_by("due_at"))
