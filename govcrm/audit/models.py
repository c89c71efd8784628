"""The audit log: append-only records of sensitive reads and configuration changes.

Rules:
- A record is written once and never changed or deleted by the application: `save()` of an
  existing record, `delete()`, and `update()`/`delete()` on a queryset raise `AppendOnlyError`.
- The database refuses it too (migration 0002): triggers reject UPDATE on SQLite and PostgreSQL,
  and DELETE on PostgreSQL. (SQLite keeps DELETE open because Django's test flush empties tables
  with DELETE; PostgreSQL's flush uses TRUNCATE, which row triggers do not see.)
- The actor is kept by id and name, not as a foreign key, so deleting a user changes no record.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    pass


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit records are append-only")

    def delete(self):
        raise AppendOnlyError("Audit records are append-only")

    update.queryset_only = True
    delete.queryset_only = True


class AuditRecord(models.Model):
    class Action(models.TextChoices):
        SENSITIVE_READ = "citizen.read_sensitive", _("Read of a citizen's sensitive data")
        CONFIG_ADD = "config.add", _("Configuration added")
        CONFIG_CHANGE = "config.change", _("Configuration changed")
        CONFIG_DELETE = "config.delete", _("Configuration deleted")
        TOKEN_CREATE = "token.create", _("API token created")
        TOKEN_REVOKE = "token.revoke", _("API token revoked")
        TWO_FACTOR_ENABLE = "2fa.enable", _("Second factor turned on")
        TWO_FACTOR_DISABLE = "2fa.disable", _("Second factor turned off")
        RETENTION = "retention.apply", _("Personal data anonymised (retention)")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True, db_index=True)
    actor_name = models.CharField(_("actor"), max_length=150)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    address = models.CharField(_("client address"), max_length=64, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Audit records are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit records are append-only")
