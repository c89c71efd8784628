"""Open311 clients (who may POST) and the per-category questions a service definition lists.

Rules:
- A client's api_key is shown once, when it is made (`govcrm open311 add-client NAME`); only its
  SHA-256 and a short prefix (to recognise it in the admin) are stored.
- A question belongs to one leaf category (a service: service codes are category codes); its
  `code` is what clients send as `attribute[code]`. List datatypes carry their options in
  `values` as `[{"key": …, "name_zh": …, "name_en": …}]` (`name` is accepted for both languages).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from govcrm.common.models import TimestampedModel
from govcrm.common.reference import InvalidatesReferenceCache


class Open311Client(models.Model):
    """An application allowed to POST service requests and updates (FixMyStreet, a city app…)."""

    name = models.CharField(_("name"), max_length=100, unique=True,
                            help_text=_("Also the prefix of the natural key of what this client posts."))
    key_prefix = models.CharField(_("key prefix"), max_length=12, editable=False)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceQuestion(InvalidatesReferenceCache, TimestampedModel):
    """One attribute of a service definition: a question asked when reporting in this category."""

    class Datatype(models.TextChoices):
        STRING = "string", _("Single line of text")
        NUMBER = "number", _("Number")
        DATETIME = "datetime", _("Date and time")
        TEXT = "text", _("Text (several lines)")
        SINGLEVALUELIST = "singlevaluelist", _("One choice from a list")
        MULTIVALUELIST = "multivaluelist", _("Several choices from a list")

    LIST_DATATYPES = frozenset({Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST})

    category = models.ForeignKey("cases.Category", on_delete=models.CASCADE, related_name="open311_questions",
                                 verbose_name=_("category"))
    code = models.CharField(_("code"), max_length=64,
                            help_text=_("Sent by clients as attribute[code]: letters, digits, _ and -."))
    datatype = models.CharField(_("datatype"), max_length=16, choices=Datatype.choices, default=Datatype.STRING)
    variable = models.BooleanField(_("asks for input"), default=True,
                                   help_text=_("Off: only information shown to the person reporting."))
    required = models.BooleanField(_("required"), default=False)
    description = models.CharField(_("question (Chinese)"), max_length=500)
    description_en = models.CharField(_("question (English)"), max_length=500, blank=True)
    datatype_description = models.CharField(_("help for the answer"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    values = models.JSONField(_("choices"), default=list, blank=True,
                              help_text=_('For lists: [{"key": "deep", "name_zh": "深", "name_en": "Deep"}, …]'))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service question")
        verbose_name_plural = _("service questions")
        ordering = ["category", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="open311_question_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.category.code}: {self.code}"

    def clean(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", self.code or ""):
            raise ValidationError({"code": _("Use letters, digits, _ and - only.")})
        if self.category_id and self.category.children.exists():
            raise ValidationError({"category": _("Questions belong to a most specific category (a service).")})
        if self.datatype in self.LIST_DATATYPES:
            values = self.values if isinstance(self.values, list) else None
            if not values or not all(isinstance(v, dict) and str(v.get("key", "")).strip() for v in values):
                raise ValidationError({"values": _("A list question needs choices, each with a key.")})
            keys = [str(v["key"]) for v in values]
            if len(set(keys)) != len(keys):
                raise ValidationError({"values": _("The keys of the choices must differ.")})
        elif self.values:
            raise ValidationError({"values": _("Only list questions have choices.")})

    @property
    def label(self) -> str:
        """The question in the active language."""
        lang = translation.get_language() or "zh-hans"
        return self.description_en if lang.startswith("en") and self.description_en else self.description

    def choices(self) -> list[tuple[str, str]]:
        """(key, name) of each choice, names in the active language."""
        english = (translation.get_language() or "").startswith("en")
        out = []
        for v in self.values or []:
            if not isinstance(v, dict) or "key" not in v:
                continue
            key = str(v["key"])
            name = (v.get("name_en") if english else v.get("name_zh")) or v.get("name") or v.get("name_zh") or key
            out.append((key, str(name)))
        return out
