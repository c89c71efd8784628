"""Reads of scheduled reports: who may receive them, whose subscriptions a caller sees, which
past reports a caller may download.

Rules (the dashboards' roles, `analytics.queries.dashboard_scope`):
- Supervisors, analysts and administrators receive and download city reports (and may download
  every unit's); a unit manager receives and downloads the reports of its unit's subtree only;
  everyone else is refused (Forbidden).
- A caller sees its own subscriptions; an administrator sees everyone's.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from govcrm.analytics.queries import dashboard_scope
from govcrm.common.errors import Forbidden, NotFound
from govcrm.organization.models import Role, StaffProfile, Unit
from govcrm.organization.queries import Actor, actor_for_user

from .models import Delivery, Report, Subscription

RECEIVERS = frozenset({Role.SUPERVISOR, Role.ANALYST, Role.ADMIN, Role.MANAGER})


def report_scope(actor: Actor) -> str | None:
    """The unit path the actor's reports are limited to (None: the whole city); Forbidden if none."""
    try:
        return dashboard_scope(actor)
    except Forbidden:
        raise Forbidden(_("Scheduled reports are for supervisors, analysts, administrators and unit managers.")) \
            from None


def report_scope_of_user(user) -> tuple[str | None, Unit | None]:
    """(scope path, scope unit) of a subscriber as they are now; Forbidden if they may not receive reports."""
    actor = actor_for_user(user)
    scope = report_scope(actor)
    unit = Unit.objects.get(pk=actor.unit_id) if scope is not None else None
    return scope, unit


def subscriptions_visible(actor: Actor) -> QuerySet[Subscription]:
    report_scope(actor)
    qs = Subscription.objects.select_related("user").order_by("user__username", "kind")
    return qs if actor.role == Role.ADMIN else qs.filter(user_id=actor.user_id)


def subscription_get(actor: Actor, subscription_id: int) -> Subscription:
    sub = subscriptions_visible(actor).filter(pk=subscription_id).first()
    if sub is None:
        raise NotFound(_("No such subscription, or not one of yours."))
    return sub


def subscribers_choosable(actor: Actor) -> list:
    """The staff an administrator may subscribe (the roles that receive reports), by username."""
    if actor.role != Role.ADMIN:
        return []
    ids = StaffProfile.objects.filter(role__in=RECEIVERS).values_list("user_id", flat=True)
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("username"))


def reports_visible(actor: Actor) -> QuerySet[Report]:
    """Past reports the actor may download, newest first (without their bytes)."""
    scope = report_scope(actor)
    qs = Report.objects.defer("pdf", "xlsx").select_related("scope_unit")
    return qs if scope is None else qs.filter(scope_path__startswith=scope)


def report_get(actor: Actor, report_id: int) -> Report:
    report = reports_visible(actor).filter(pk=report_id).first()
    if report is None:
        raise NotFound(_("No such report, or not one you may see."))
    return report


def deliveries_recent(actor: Actor, limit: int = 50) -> QuerySet[Delivery]:
    """Recent mailings: an administrator's of everyone, others' their own."""
    report_scope(actor)
    qs = Delivery.objects.select_related("user").order_by("-claimed_at", "-id")
    return (qs if actor.role == Role.ADMIN else qs.filter(user_id=actor.user_id))[:limit]
