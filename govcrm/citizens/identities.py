"""Normalising, validating and masking the identities a citizen or enterprise can have.

- phone: parsed with `phonenumbers` (default region CN), stored as E.164, masked 138****5678.
- id_card: mainland resident ID (18 characters, ISO 7064 check digit) via `python-stdnum`.
- credit_code: unified social credit code (统一社会信用代码) with its check character.
- email: lower-cased domain, masked a***@example.org.
- wechat: an Official Account openid, masked to its first and last four characters.
"""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from govcrm.common.errors import ValidationFailed

PHONE = "phone"
ID_CARD = "id_card"
CREDIT_CODE = "credit_code"
EMAIL = "email"
WECHAT = "wechat"
KINDS = (PHONE, ID_CARD, CREDIT_CODE, EMAIL, WECHAT)
# Kinds whose clear value is sensitive enough to encrypt at rest.
ENCRYPTED_KINDS = frozenset({PHONE, ID_CARD, CREDIT_CODE})


def normalise(kind: str, value: str, *, field: str | None = None) -> str:
    """The canonical form of an identity, or ValidationFailed naming the field."""
    field = field or kind
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(_("This value is empty."), details={field: _("This value is empty.")})
    if kind == PHONE:
        try:
            number = phonenumbers.parse(value, "CN")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            msg = _("Not a valid phone number: %(value)s") % {"value": value}
            raise ValidationFailed(msg, details={field: msg})
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if kind == ID_CARD:
        try:
            return ric.validate(value.upper())
        except StdnumError:
            msg = _("Not a valid resident ID number (check digit or date wrong).")
            raise ValidationFailed(msg, details={field: msg}) from None
    if kind == CREDIT_CODE:
        try:
            return uscc.validate(value.upper())
        except StdnumError:
            msg = _("Not a valid unified social credit code.")
            raise ValidationFailed(msg, details={field: msg}) from None
    if kind == EMAIL:
        local, sep, domain = value.rpartition("@")
        if not sep or not local or "." not in domain:
            msg = _("Not a valid e-mail address.")
            raise ValidationFailed(msg, details={field: msg})
        return f"{local}@{domain.lower()}"
    if kind == WECHAT:
        return value
    raise ValidationFailed(f"Unknown identity kind {kind}", details={field: "unknown kind"})


def mask(kind: str, value: str) -> str:
    if kind == PHONE:
        digits = value.removeprefix("+86")
        return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "****"
    if kind == ID_CARD:
        return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"
    if kind == CREDIT_CODE:
        return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"
    if kind == EMAIL:
        local, _sep, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"{value[:4]}…{value[-4:]}" if len(value) > 8 else "****"


def mask_name(name: str) -> str:
    """张三 → 张*, John Smith → J*** S****."""
    if not name:
        return ""
    if name.isascii():
        return " ".join(p[:1] + "*" * (len(p) - 1) for p in name.split())
    return name[:1] + "*" * (len(name) - 1)
