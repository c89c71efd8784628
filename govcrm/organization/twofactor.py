"""The optional second factor of staff sign-in: a TOTP authenticator app, and backup codes.

Rules:
- A staff member turns it on by scanning a QR code (or typing the secret) into an authenticator
  app and typing back one code: only then is the device confirmed. Ten single-use backup codes
  are made at the same time and shown once; they stand in for a lost phone.
- Once on, signing in (console and admin alike) asks for a code after the password; a code is
  accepted once (a replayed TOTP code is refused) and repeated wrong codes slow the device down
  (django-otp's throttling doubles the wait after each failure).
- Turning it off needs a valid code. An administrator can remove a lost device in the admin.
- `GOVCRM_2FA_REQUIRED_ROLES` (e.g. "admin,supervisor") makes it compulsory for those roles
  (a superuser without a staff role counts as admin): they must enrol before using the console.
- Turning it on or off is written to the audit log.
Built on django-otp (TOTP per RFC 6238, 30-second steps, one step of tolerance) and segno (QR).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import segno
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from govcrm.audit.actions import audit_record
from govcrm.audit.models import AuditRecord
from govcrm.common.errors import ValidationFailed

from .models import Role, StaffProfile

BACKUP_CODES = 10
DEVICE_NAME = "authenticator"
TOTP_CODE = re.compile(r"^\d{6}$")


def required_roles() -> frozenset[str]:
    return frozenset(r.strip() for r in getattr(settings, "GOVCRM_2FA_REQUIRED_ROLES", ()) if r.strip())


def role_of(user) -> str | None:
    role = StaffProfile.objects.filter(user=user).values_list("role", flat=True).first()
    if role is None and user.is_superuser:
        return Role.ADMIN
    return role


def is_required(user) -> bool:
    roles = required_roles()
    return bool(roles) and role_of(user) in roles


def is_enabled(user) -> bool:
    return user_has_device(user, confirmed=True)


def enrolment_start(*, user) -> TOTPDevice:
    """A new unconfirmed TOTP device (replacing an earlier unconfirmed one); not in force yet."""
    if is_enabled(user):
        raise ValidationFailed(_("The second sign-in factor is already on."), code="already_enabled")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def pending_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def secret_base32(device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode().rstrip("=")


def qr_svg(device: TOTPDevice) -> bytes:
    """The otpauth:// URL as an SVG QR code, drawn here (nothing leaves the server)."""
    out = io.BytesIO()
    segno.make(device.config_url, error="m").save(out, kind="svg", scale=5, border=4, xmldecl=True,
                                                   title="otpauth")
    return out.getvalue()


def _new_backup_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="backup codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def enrolment_confirm(*, user, code: str, address: str | None = None) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending device with a code from the app; returns it and the new backup codes."""
    device = pending_device(user)
    if device is None:
        raise ValidationFailed(_("Start the set-up first."), code="no_pending_device")
    code = (code or "").strip().replace(" ", "")
    if not TOTP_CODE.match(code) or not device.verify_token(code):
        raise ValidationFailed("The code is not right", details={"code": "invalid"}, code="invalid_code")
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = _new_backup_codes(user)
        audit_record(action=AuditRecord.Action.TWO_FACTOR_ENABLE, obj=user, actor=user, address=address,
                     object_repr=user.get_username())
    return device, codes


def verify(*, user, code: str):
    """The device that accepts this code (a TOTP code or a backup code), or None."""
    code = (code or "").strip().replace(" ", "").lower()
    if not code:
        return None
    # for_verify locks the devices (SELECT … FOR UPDATE) so that one code cannot be used twice at
    # once: the query and the checks must run inside one transaction.
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if isinstance(device, TOTPDevice) != bool(TOTP_CODE.match(code)):
                continue  # a six-digit code is for the app, anything else a backup code
            if device.verify_token(code):
                return device
    return None


def backup_codes_renew(*, user, code: str) -> list[str]:
    if verify(user=user, code=code) is None:
        raise ValidationFailed("The code is not right", details={"code": "invalid"}, code="invalid_code")
    return _new_backup_codes(user)


def disable(*, user, code: str, address: str | None = None) -> None:
    """Turn the second factor off; needs a valid code (app or backup)."""
    if verify(user=user, code=code) is None:
        raise ValidationFailed("The code is not right", details={"code": "invalid"}, code="invalid_code")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit_record(action=AuditRecord.Action.TWO_FACTOR_DISABLE, obj=user, actor=user, address=address,
                     object_repr=user.get_username())


@dataclass(frozen=True)
class Status:
    enabled: bool
    required: bool
    backup_codes_left: int


def status(user) -> Status:
    left = StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
    return Status(enabled=is_enabled(user), required=is_required(user), backup_codes_left=left)
