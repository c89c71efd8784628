"""One record per contact, whatever the channel: the citizen's timeline.

An interaction's natural key (channel, external_id) — a Message-ID, a WeChat MsgId, a call
id, an Idempotency-Key — is unique, so that a retried delivery never creates a second one.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from govcrm.cases.models import Channel


class Interaction(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", _("From the citizen")
        OUTBOUND = "out", _("To the citizen")

    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.INBOUND)
    external_id = models.CharField(max_length=255, blank=True,
                                   help_text=_("The channel's own id: Message-ID, MsgId, call id…"))
    citizen = models.ForeignKey("citizens.Citizen", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="interactions")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="interactions")
    subject = models.CharField(max_length=300, blank=True)
    content = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "direction", "external_id"], name="interaction_natural_key",
                                    condition=~models.Q(external_id="")),
        ]
        indexes = [models.Index(fields=["citizen", "created_at"], name="interaction_citizen_time")]

    def __str__(self) -> str:
        return f"{self.channel}/{self.direction} {self.external_id or self.pk}"


class Attachment(models.Model):
    """A file that came with an interaction (photo, fax image, mail attachment), checked by content."""

    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.name
