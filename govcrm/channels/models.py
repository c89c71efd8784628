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


class Receipt(models.Model):
    """An intake acknowledged before it is registered (ADR 0023; GOVCRM_INTAKE_RECEIPTS=on).

    The request is checked as for a direct registration, then kept here — its content encrypted,
    as it holds personal data — with the case number and query code it will have, and answered.
    The registrar job (`channels.receipts.receipts_register`) registers pending receipts in
    batches through the same intake; the case then has the receipt's number, query code and time.
    """

    class Kind(models.TextChoices):
        INTAKE = "intake", _("Channel intake")
        API = "api", _("REST API")

    class State(models.TextChoices):
        PENDING = "pending", _("Received, being registered")
        REGISTERED = "registered", _("Registered")
        FAILED = "failed", _("Could not be registered")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    natural_key = models.CharField(max_length=400, blank=True,
                           help_text=_("The natural key (channel id, Idempotency-Key): a retry finds this receipt."))
    number = models.CharField(_("case number"), max_length=20, unique=True)
    query_code = models.CharField(max_length=6)
    token = models.CharField(max_length=32, unique=True)
    payload = models.TextField(help_text=_("The checked request, encrypted (citizens/crypto.py)."))
    digest = models.CharField(max_length=64, blank=True, help_text=_("SHA-256 of a REST request's body."))
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField()
    registered_at = models.DateTimeField(null=True, blank=True)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("intake receipt")
        verbose_name_plural = _("intake receipts")
        constraints = [
            models.UniqueConstraint(fields=["kind", "natural_key"], name="receipt_natural_key",
                                    condition=~models.Q(natural_key="")),
        ]
        indexes = [models.Index(fields=["state", "id"], name="receipt_pending",
                                condition=models.Q(state="pending"))]

    def __str__(self) -> str:
        return f"{self.number} ({self.state})"
