"""Writes on the organisation: API tokens, a staff member's language."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from govcrm.common.errors import NotFound, ValidationFailed

from .models import ApiToken, StaffProfile

TOKEN_PREFIX = "gcrm_"  # noqa: S105 - a public marker, not a secret


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(*, username: str, name: str = "") -> str:
    """Create a token for a user and return it in clear, once."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"No active user {username!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, digest=token_digest(token), prefix=token[:12])
    return token


def api_token_user(token: str):
    """The user of a valid, unrevoked token, or None."""
    record = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if record is None:
        return None
    now = timezone.now()
    if record.last_used_at is None or (now - record.last_used_at).total_seconds() > 300:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)  # coarse, to spare writes
    return record.user


def api_token_revoke(*, prefix: str) -> int:
    return ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True).update(revoked_at=timezone.now())


def staff_language_set(*, user, language: str) -> bool:
    """Remember the UI language of a staff member. Returns False for a user without a profile."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationFailed("Unknown language", details={"language": language})
    return StaffProfile.objects.filter(user=user).update(language=language) > 0
