"""Department registries, match proposals and citizen merges.

Rules:
- A registry record keeps its sensitive values (resident ID, credit code, phone) as the citizens
  app keeps an identity's: a Fernet token, a blind index for exact lookups, a masked form for
  screens (ADR 0005). Names, birth dates and addresses are kept in clear, as on a citizen record.
- A registry record is unique per source department and ID number (or credit code): importing a
  newer extract of the same registry updates the records it already has.
- A proposal is unique per pair of records (`pair_key`): a pair that was rejected is never proposed
  again, and one that was accepted is not proposed twice.
- A `CitizenMerge` is written once and never changed: it says who merged which record into which,
  on which proposal, and every row that moved (model → ids), so that a merge can be explained.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from govcrm.citizens import crypto, identities


class RegistryKind(models.TextChoices):
    RESIDENTS = "residents", _("Residents")
    ENTERPRISES = "enterprises", _("Enterprises")


class RegistryImport(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=RegistryKind.choices)
    source = models.CharField(_("source department"), max_length=200)
    file_name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("new records"), default=0)
    updated = models.PositiveIntegerField(_("updated records"), default=0)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    imported_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(_("imported at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("registry import")
        verbose_name_plural = _("registry imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source} · {self.file_name}"


def sensitive_fields(label: str, *, blank: bool = False, db_index: bool = False):
    """The three columns of one sensitive value (ADR 0005), declared together: the Fernet token
    (`<value>_stored`), the blind index for exact lookups (`<value>_index`) and the masked form for
    screens (`<value>_masked`, named `label`). Used as
    `phone_stored, phone_index, phone_masked = sensitive_fields(_("phone"), blank=True)`."""
    return (models.TextField(blank=blank),
            models.CharField(max_length=64, blank=blank, db_index=db_index),
            models.CharField(label, max_length=32, blank=blank))


class RegistryRecord(models.Model):
    """What a resident's and an enterprise's registry record share: where it came from, a name, an
    address and a phone. Each record model adds its own key value (`sensitive_fields`), its import
    and its citizen (their reverse names differ)."""

    source = models.CharField(_("source department"), max_length=200)
    row_number = models.PositiveIntegerField(_("row"))
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone_stored, phone_index, phone_masked = sensitive_fields(_("phone"), blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_stored) if self.phone_stored else ""

    def _set_sensitive(self, field: str, kind: str, normalised: str) -> None:
        """Fill the three columns of `field` from its normalised clear value (all empty for none)."""
        if normalised:
            values = (crypto.encrypt(normalised), crypto.blind_index(kind, normalised),
                      identities.mask(kind, normalised))
        else:
            values = ("", "", "")
        for suffix, value in zip(("stored", "index", "masked"), values, strict=True):
            setattr(self, f"{field}_{suffix}", value)


class ResidentRecord(RegistryRecord):
    """A person as a department's registry knows them (户籍, 社保, 民政…)."""

    registry_import = models.ForeignKey(RegistryImport, on_delete=models.PROTECT, related_name="residents")
    id_number_stored, id_number_index, id_number_masked = sensitive_fields(_("resident ID"))
    birth_date = models.DateField(_("birth date"))
    citizen = models.ForeignKey("citizens.Citizen", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="registry_residents")

    class Meta:
        verbose_name = _("registry resident")
        verbose_name_plural = _("registry residents")
        constraints = [models.UniqueConstraint(fields=["source", "id_number_index"], name="resident_unique_per_source")]

    def __str__(self) -> str:
        return f"{identities.mask_name(self.name)} · {self.source}"

    @property
    def id_number(self) -> str:
        return crypto.decrypt(self.id_number_stored)

    def set_values(self, *, id_number: str, phone: str) -> None:
        self._set_sensitive("id_number", identities.ID_CARD, id_number)
        self._set_sensitive("phone", identities.PHONE, phone)


class EnterpriseRecord(RegistryRecord):
    """An enterprise as a department's registry knows it (市场监管…)."""

    registry_import = models.ForeignKey(RegistryImport, on_delete=models.PROTECT, related_name="enterprises")
    credit_code_stored, credit_code_index, credit_code_masked = sensitive_fields(_("unified social credit code"))
    legal_representative = models.CharField(_("legal representative"), max_length=200, blank=True)
    citizen = models.ForeignKey("citizens.Citizen", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="registry_enterprises")

    class Meta:
        verbose_name = _("registry enterprise")
        verbose_name_plural = _("registry enterprises")
        constraints = [models.UniqueConstraint(fields=["source", "credit_code_index"],
                                               name="enterprise_unique_per_source")]

    def __str__(self) -> str:
        return f"{self.name} · {self.source}"

    @property
    def credit_code(self) -> str:
        return crypto.decrypt(self.credit_code_stored)

    def set_values(self, *, credit_code: str, phone: str) -> None:
        self._set_sensitive("credit_code", identities.CREDIT_CODE, credit_code)
        self._set_sensitive("phone", identities.PHONE, phone)


class MatchRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RUNNING)
    threshold = models.FloatField(_("threshold (match probability)"))
    citizens = models.PositiveIntegerField(_("citizen records"), default=0)
    residents = models.PositiveIntegerField(_("registry records"), default=0)
    pairs = models.PositiveIntegerField(_("pairs above the threshold"), default=0)
    proposed = models.PositiveIntegerField(_("new proposals"), default=0)
    seconds = models.FloatField(_("seconds"), default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("match run")
        verbose_name_plural = _("match runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.started_at:%Y-%m-%d %H:%M}"


class MatchProposal(models.Model):
    class Kind(models.TextChoices):
        MERGE = "merge", _("Two citizen records: merge")
        LINK = "link", _("Registry record and citizen: link")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Superseded")

    run = models.ForeignKey(MatchRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    pair_key = models.CharField(max_length=64, unique=True)
    citizen = models.ForeignKey("citizens.Citizen", on_delete=models.CASCADE, related_name="+")
    other_citizen = models.ForeignKey("citizens.Citizen", null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="+")
    resident = models.ForeignKey(ResidentRecord, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    match_weight = models.FloatField(_("match weight"))
    match_probability = models.FloatField(_("match probability"))
    levels = models.JSONField(default=dict)  # field → comparison level (gamma; -1 missing)
    weights = models.JSONField(default=dict)  # field → match weight of that level
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("match proposal")
        verbose_name_plural = _("match proposals")
        ordering = ["-match_weight", "id"]

    def __str__(self) -> str:
        return f"{self.pair_key} {self.status}"


class AppendOnlyError(Exception):
    pass


class CitizenMerge(models.Model):
    """One merge of a citizen record into another, with everything it moved. Never edited."""

    survivor = models.ForeignKey("citizens.Citizen", on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey("citizens.Citizen", on_delete=models.PROTECT, related_name="+")
    proposal = models.OneToOneField(MatchProposal, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="merge")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    by_name = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True)
    moved = models.JSONField(default=dict)  # "app.Model.field" → ids of the rows that now point at the survivor

    class Meta:
        verbose_name = _("citizen merge")
        verbose_name_plural = _("citizen merges")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"#{self.merged_id} → #{self.survivor_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Citizen merges are recorded once")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Citizen merges are recorded once")
