"""Console pages of department integration, under /console/integration/ (administrators only).

- `delivery_list` — GET: the subscribers with their pending / delivered / dead counts, and the
  deliveries (newest first), filtered by status (dead letters: `?status=dead`), subscriber, case.
- `delivery_detail` — GET: one delivery, its CloudEvents payload and every attempt (status, latency, error).
- `delivery_retry_view` — POST only (CSRF): a dead letter gets a new round of attempts.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from govcrm.common.errors import DomainError
from govcrm.console.access import staff_view

from . import queries
from .actions import delivery_retry
from .models import Delivery


@require_GET
@staff_view
def delivery_list(request):
    status = request.GET.get("status", "")
    status = status if status in Delivery.Status.values else ""
    subscriber = request.GET.get("subscriber", "")
    subscriber_id = int(subscriber) if subscriber.isdigit() else None
    subject = request.GET.get("subject", "")[:40]
    subscribers = list(queries.subscriber_overview(request.actor))
    deliveries = list(queries.delivery_list(request.actor, status=status or None, subscriber_id=subscriber_id,
                                            subject=subject or None)[:queries.PAGE])
    return render(request, "integration/deliveries.html", {
        "subscribers": subscribers, "deliveries": deliveries, "status": status, "statuses": Delivery.Status.choices,
        "subscriber_id": subscriber_id, "subject": subject, "page": queries.PAGE,
    })


@require_GET
@staff_view
def delivery_detail(request, delivery_id: int):
    delivery = queries.delivery_get(request.actor, delivery_id)
    return render(request, "integration/delivery.html", {
        "delivery": delivery, "attempts": list(delivery.log.all()),
        "payload": json.dumps(delivery.payload, ensure_ascii=False, indent=2),
    })


@require_POST
@staff_view
def delivery_retry_view(request, delivery_id: int):
    delivery = queries.delivery_get(request.actor, delivery_id)
    try:
        delivery_retry(delivery_id=delivery.pk, actor=request.actor)
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("The delivery will be sent again."))
    return redirect("integration:delivery", delivery_id=delivery.pk)
