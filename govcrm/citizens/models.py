"""Citizens and enterprises, one record each, found by any of their identities.

An identity's clear value is encrypted when sensitive (phone, ID numbers); every identity
has a blind index (keyed hash) unique per kind, so that "one person, one record" holds even
though the database never sees a clear ID number.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from govcrm.common.models import TimestampedModel

from . import crypto, identities


class Citizen(TimestampedModel):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ENTERPRISE = "enterprise", _("Enterprise")

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")
        WECHAT = "wechat", _("WeChat")
        PORTAL = "portal", _("Portal")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=200, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=16, choices=Channel.choices, default=Channel.PHONE
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="zh-hans")
    consent_contact = models.BooleanField(_("may be contacted"), default=True)
    consent_data = models.BooleanField(_("consents to data processing"), default=True)
    sms_opt_out = models.BooleanField(_("opted out of SMS"), default=False)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")

    def __str__(self) -> str:
        return identities.mask_name(self.name) or f"#{self.pk}"


class Identity(TimestampedModel):
    class Kind(models.TextChoices):
        PHONE = identities.PHONE, _("Phone")
        ID_CARD = identities.ID_CARD, _("Resident ID")
        CREDIT_CODE = identities.CREDIT_CODE, _("Unified social credit code")
        EMAIL = identities.EMAIL, _("E-mail")
        WECHAT = identities.WECHAT, _("WeChat openid")

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Fernet token for sensitive kinds, the clear value otherwise.
    value_stored = models.TextField()
    blind_index = models.CharField(max_length=64)
    masked = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        constraints = [models.UniqueConstraint(fields=["kind", "blind_index"], name="identity_unique_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.masked}"

    @property
    def value(self) -> str:
        if self.kind in identities.ENCRYPTED_KINDS:
            return crypto.decrypt(self.value_stored)
        return self.value_stored

    @classmethod
    def build(cls, *, citizen: Citizen, kind: str, normalised: str) -> Identity:
        stored = crypto.encrypt(normalised) if kind in identities.ENCRYPTED_KINDS else normalised
        return cls(
            citizen=citizen,
            kind=kind,
            value_stored=stored,
            blind_index=crypto.blind_index(kind, normalised),
            masked=identities.mask(kind, normalised),
        )
