"""Writing audit records. The only writes of this app; there is no way to change one.

- `audit_record(...)` writes at once (in the caller's transaction): configuration changes,
  tokens, second factor, retention.
- `audit_sensitive_read(...)` records that a person saw a citizen's sensitive fields in clear;
  inside a request it is written at the end of the request, with the others of that request.
The actor is the given user or `Actor`, else the signed-in user of the current request, else
"system"; the address is the client's (see common/network.py).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from govcrm.common.network import client_address

from . import context
from .models import AuditRecord


def _who(actor) -> tuple[int | None, str]:
    if actor is None:
        ctx = context.current()
        user = getattr(ctx.request, "user", None) if ctx else None
        if user is not None and user.is_authenticated:
            return user.pk, user.get_username()
        return None, "system"
    if hasattr(actor, "user_id") and hasattr(actor, "username"):  # organization.queries.Actor
        return actor.user_id, actor.username
    return actor.pk, actor.get_username()


def _build(*, action: str, obj: models.Model | None, object_type: str, object_id: str, object_repr: str,
           detail: dict[str, Any] | None, actor, address: str | None) -> AuditRecord:
    actor_id, actor_name = _who(actor)
    if address is None:
        ctx = context.current()
        address = client_address(ctx.request) if ctx else ""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
    return AuditRecord(actor_id=actor_id, actor_name=actor_name[:150], action=action,
                       object_type=object_type[:100], object_id=str(object_id)[:64],
                       object_repr=str(object_repr)[:200], address=address[:64], detail=detail or {})


def audit_record(*, action: str, obj: models.Model | None = None, object_type: str = "", object_id: str = "",
                 object_repr: str = "", detail: dict[str, Any] | None = None, actor=None,
                 address: str | None = None) -> AuditRecord:
    record = _build(action=action, obj=obj, object_type=object_type, object_id=object_id,
                    object_repr=object_repr, detail=detail, actor=actor, address=address)
    record.save()
    return record


def audit_sensitive_read(*, citizen: models.Model, kinds: list[str], actor=None) -> None:
    record = _build(action=AuditRecord.Action.SENSITIVE_READ, obj=citizen, object_type="", object_id="",
                    object_repr=f"#{citizen.pk}", detail={"fields": sorted(kinds)}, actor=actor, address=None)
    ctx = context.current()
    if ctx is None:
        record.save()
    else:
        ctx.pending.append(record)


def audit_flush(records: list[AuditRecord]) -> None:
    AuditRecord.objects.bulk_create(records)
