"""Webhook subscribers of department systems, the outbox of their deliveries and the delivery log.

Rules:
- A `Subscriber` is a department system's endpoint with its filters (event types, a unit subtree,
  a category subtree) and its signing secret, stored encrypted (citizens/crypto.py). Saving one
  clears the process's reference cache: the hook reads the subscriber list from it (ADR 0010).
- A `Delivery` is one event for one subscriber. The rows of an event are written in one INSERT
  statement inside the transaction of the change (so a rolled-back change leaves none, and a
  committed one is never lost); the payload is the whole CloudEvents envelope, fixed at that moment.
- A delivery is `pending` until the receiver answers 2xx (`delivered`, never sent again) or its
  attempts run out (`dead`, until someone retries it). Each HTTP attempt appends a `DeliveryAttempt`.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from govcrm.common.models import TimestampedModel
from govcrm.common.reference import InvalidatesReferenceCache


class Subscriber(InvalidatesReferenceCache, TimestampedModel):
    """A department system that receives events by webhook."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("endpoint URL"), max_length=500,
                          help_text=_("Events are POSTed here as CloudEvents 1.0 JSON (structured mode)."))
    active = models.BooleanField(_("active"), default=True)
    event_types = models.JSONField(
        _("event types"), default=list, blank=True,
        help_text=_("Types to send, e.g. gov.govcrm.case.dispatched, or a prefix ending in * "
                    "(gov.govcrm.case.*). Empty: every type."),
    )
    unit = models.ForeignKey(
        "organization.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("unit subtree"),
        help_text=_("Only events of cases held by (or leaving) this unit or a unit under it. Empty: every unit."),
    )
    category = models.ForeignKey(
        "cases.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("category subtree"),
        help_text=_("Only events of cases in this category or below it. Empty: every category."),
    )
    # Fernet tokens (citizens/crypto.py); the clear secret is shown once, when made or rotated.
    secret_encrypted = models.TextField(editable=False)
    # The secret before the last rotation, still signed with until `previous_secret_until`.
    previous_secret_encrypted = models.TextField(blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("webhook subscriber")
        verbose_name_plural = _("webhook subscribers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One event for one subscriber: the outbox row and its delivery state."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        DEAD = "dead", _("Dead letter")

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(_("event id"), help_text=_("The CloudEvents id: the same for every subscriber."))
    event_type = models.CharField(_("event type"), max_length=100)
    subject = models.CharField(_("subject"), max_length=40, help_text=_("The case or application number."))
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Attempts made before the last manual retry: a retried dead letter gets a full round again.
    attempts_before_retry = models.PositiveSmallIntegerField(default=0, editable=False)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["subscriber", "event_id"], name="delivery_event_unique")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["subscriber", "subject", "status"], name="delivery_order"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.subject} → {self.subscriber_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """One HTTP attempt of a delivery: what the receiver answered, how fast, or why it failed."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveSmallIntegerField(_("attempt"))
    at = models.DateTimeField(_("time"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"))
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"{self.delivery_id}#{self.number} {self.status_code or self.error[:40]}"
