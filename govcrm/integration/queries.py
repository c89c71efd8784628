"""Reads of department integration for the console: subscribers with their delivery counts, deliveries.

Administrators only (the endpoints, the payloads and the failures of every department's system):
every function takes the actor and refuses anyone else.
"""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet
from django.utils.translation import gettext as _

from govcrm.common.errors import Forbidden, NotFound
from govcrm.organization.models import Role
from govcrm.organization.queries import Actor

from .models import Delivery, Subscriber

PAGE = 200


def _require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden(_("Only administrators see the webhook deliveries."))


def subscriber_overview(actor: Actor) -> QuerySet[Subscriber]:
    _require_admin(actor)
    return Subscriber.objects.select_related("unit", "category").annotate(
        pending=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.PENDING)),
        dead=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.DEAD)),
        delivered=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.DELIVERED)),
        last_delivered=Max("deliveries__delivered_at"),
    ).order_by("name")


def delivery_list(actor: Actor, *, status: str | None = None, subscriber_id: int | None = None,
                  subject: str | None = None) -> QuerySet[Delivery]:
    """Deliveries, newest first (the page shows the first PAGE)."""
    _require_admin(actor)
    qs = Delivery.objects.select_related("subscriber").defer("payload")
    if status:
        qs = qs.filter(status=status)
    if subscriber_id:
        qs = qs.filter(subscriber_id=subscriber_id)
    if subject:
        qs = qs.filter(subject=subject.strip())
    return qs.order_by("-pk")


def delivery_get(actor: Actor, delivery_id: int) -> Delivery:
    _require_admin(actor)
    delivery = Delivery.objects.select_related("subscriber").filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound(_("No such delivery."))
    return delivery
