"""Writes the console makes itself: the staff member's language.

This belongs in `govcrm.organization.actions` (as `staff_language_set`); it lives here until that
app takes it, because the console may not edit other apps.
"""

from __future__ import annotations

from django.conf import settings

from govcrm.common.errors import ValidationFailed
from govcrm.organization.models import StaffProfile


def staff_language_set(*, user, language: str) -> bool:
    """Remember the UI language of a staff member. Returns False for a user without a profile."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationFailed("Unknown language", details={"language": language})
    return StaffProfile.objects.filter(user=user).update(language=language) > 0
