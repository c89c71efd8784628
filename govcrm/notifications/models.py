"""The outbox of messages to citizens.

A notification row is written in the same transaction as the case change that causes it, so
a crash can lose neither; the worker sends it afterwards with retries. Its `dedupe_key`
(case number, event, channel) is unique, and is passed to the provider as the message's own
id, so that a send retried after a crash is recognised as the same message.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Kind(models.TextChoices):
        REGISTERED = "registered", _("Case registered")
        ACCEPTED = "accepted", _("Case accepted")
        REPLIED = "replied", _("Reply")
        CLOSED = "closed", _("Case closed")
        # The outcome of an application for a public service (govcrm/services).
        DECIDED = "decided", _("Application decided")
        # A reminder of a renewal that falls due or a service the citizen became entitled to (govcrm/personal).
        REMINDER = "reminder", _("Reminder")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    # A notification is about a case or (services app) an application.
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="notifications")
    application = models.ForeignKey("services.Application", null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="notifications")
    citizen = models.ForeignKey("citizens.Citizen", on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=16)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    language = models.CharField(max_length=8)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    dedupe_key = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.TextField(blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notification_due")]

    def __str__(self) -> str:
        return f"{self.dedupe_key} {self.status}"
