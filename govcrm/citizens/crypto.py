"""Encryption at rest and blind indexes for identity numbers.

Rules:
- The clear value is never stored. `encrypt` gives a Fernet token (AES-128-CBC + HMAC);
  `blind_index` gives HMAC-SHA256 of the normalised value, so an exact lookup works without
  decrypting every row.
- Both keys are derived from one secret, GOVCRM_FIELD_KEY, with HKDF and distinct labels, so
  that knowing the index key does not reveal the encryption key.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _derive(label: bytes) -> bytes:
    secret = settings.GOVCRM_FIELD_KEY
    if not secret:
        raise ImproperlyConfigured("GOVCRM_FIELD_KEY is not set")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"govcrm", info=label).derive(secret.encode())


@functools.cache
def _keys(secret: str) -> tuple[Fernet, bytes]:
    return Fernet(base64.urlsafe_b64encode(_derive(b"field-encryption"))), _derive(b"blind-index")


def encrypt(value: str) -> str:
    return _keys(settings.GOVCRM_FIELD_KEY)[0].encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _keys(settings.GOVCRM_FIELD_KEY)[0].decrypt(token.encode()).decode()


def derive_key(label: bytes) -> bytes:
    """A 32-byte key for another purpose (e.g. analytics pseudonyms), independent of the field keys."""
    if label in (b"field-encryption", b"blind-index"):
        raise ValueError("label reserved for the field keys")
    return _derive(label)


def blind_index(kind: str, normalised_value: str) -> str:
    key = _keys(settings.GOVCRM_FIELD_KEY)[1]
    return hmac.new(key, f"{kind}:{normalised_value}".encode(), hashlib.sha256).hexdigest()
