"""Writes on the organisation: API tokens, a staff member's language.

API token rules:
- The clear token is returned once by `api_token_create`; only its SHA-256 is stored.
- A token carries scopes (`models.ApiScope`), at least one; an optional expiry; it is refused
  once revoked or expired or when its user is inactive. `last_used_at` is updated at most every
  five minutes, to spare writes on busy clients.
- Creating and revoking a token is written to the audit log.
- A token may carry a unit scope (a department system's token): its user must work in a unit
  role (handler, manager) for that unit or a unit above it; the token then acts only for the
  unit's subtree (queries.actor_for_user).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from govcrm.audit.actions import audit_record
from govcrm.audit.models import AuditRecord
from govcrm.common import fastsql
from govcrm.common.errors import NotFound, ValidationFailed

from .models import UNIT_ROLES, ApiScope, ApiToken, StaffProfile, Unit

TOKEN_PREFIX = "gcrm_"  # noqa: S105 - a public marker, not a secret
ALL_SCOPES: tuple[str, ...] = tuple(ApiScope.values)
LAST_USED_EVERY = 300


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token_unit(user, code: str) -> Unit:
    """The unit a token is scoped to: in the subtree of its user's unit, for a unit role only."""
    unit = Unit.objects.filter(code=code, active=True).first()
    if unit is None:
        raise ValidationFailed(f"No active unit {code!r}", details={"unit": code})
    staff = StaffProfile.objects.select_related("unit").filter(user=user).first()
    if staff is None or staff.role not in UNIT_ROLES:
        raise ValidationFailed("A unit-scoped token belongs to a unit's handler or manager account",
                               details={"unit": code})
    if not unit.path.startswith(staff.unit.path):
        raise ValidationFailed(f"{code!r} is not in the subtree of the account's unit {staff.unit.code!r}",
                               details={"unit": code})
    return unit


def api_token_create(*, username: str, name: str = "", scopes: Iterable[str] | None = None,
                     expires_at: dt.datetime | None = None, actor=None, unit: str | None = None) -> str:
    """Create a token for a user and return it in clear, once. `scopes=None` gives every scope.

    `unit`: the code of the unit the token is limited to (a department system's token).
    """
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"No active user {username!r}")
    scoped_unit = _token_unit(user, unit) if unit else None
    chosen = sorted(set(ALL_SCOPES if scopes is None else scopes))
    unknown = [s for s in chosen if s not in ALL_SCOPES]
    if unknown or not chosen:
        raise ValidationFailed(f"Scopes must be some of {', '.join(ALL_SCOPES)}", details={"scopes": ",".join(unknown)})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("The expiry must be in the future", details={"expires_at": str(expires_at)})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        record = ApiToken.objects.create(user=user, name=name, digest=token_digest(token), prefix=token[:12],
                                         scopes=chosen, expires_at=expires_at, unit=scoped_unit)
        audit_record(action=AuditRecord.Action.TOKEN_CREATE, obj=record, actor=actor,
                     detail={"user": username, "scopes": chosen,
                             "expires_at": expires_at.isoformat() if expires_at else None,
                             "unit": scoped_unit.code if scoped_unit else None})
    return token


_LIVE_API_KEYS = "WHERE digest = %s AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > %s)"


def api_token_check(token: str) -> ApiToken | None:
    """The valid token record (with its user), or None: unknown, revoked, expired or inactive user."""
    now = timezone.now()
    # Every API request checks its token: plain statements (common/fastsql.py), not the ORM's joins.
    record = fastsql.fetch_one(ApiToken, _LIVE_API_KEYS, [token_digest(token), now])
    if record is None:
        return None
    user = fastsql.fetch_one(get_user_model(), "WHERE id = %s", [record.user_id])
    if user is None or not user.is_active:
        return None
    record.user = user
    if record.unit_id is not None:
        record.unit = fastsql.fetch_one(Unit, "WHERE id = %s", [record.unit_id])
    if record.last_used_at is None or (now - record.last_used_at).total_seconds() > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)  # coarse, to spare writes
    return record


def api_token_user(token: str):
    """The user of a valid token, or None."""
    record = api_token_check(token)
    return record.user if record else None


def api_token_revoke(*, prefix: str | None = None, ids: Iterable[int] | None = None, actor=None) -> int:
    """Revoke the live tokens starting with `prefix`, or with the given ids. Returns how many."""
    if prefix is None and ids is None:
        raise ValidationFailed("Name the tokens to revoke")
    qs = ApiToken.objects.filter(revoked_at__isnull=True)
    qs = qs.filter(prefix=prefix) if prefix is not None else qs.filter(pk__in=list(ids or []))
    now = timezone.now()
    with transaction.atomic():
        tokens = list(qs.select_for_update().select_related("user"))
        for record in tokens:
            ApiToken.objects.filter(pk=record.pk).update(revoked_at=now)
            audit_record(action=AuditRecord.Action.TOKEN_REVOKE, obj=record, actor=actor,
                         detail={"user": record.user.get_username()})
    return len(tokens)


def staff_language_set(*, user, language: str) -> bool:
    """Remember the UI language of a staff member. Returns False for a user without a profile."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationFailed("Unknown language", details={"language": language})
    return StaffProfile.objects.filter(user=user).update(language=language) > 0
