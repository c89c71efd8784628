"""Checking that an inbound SMS webhook came from the provider, and signing what we send to it.

Rules:
- Generic JSON webhook: header `X-GovCRM-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw
  request body keyed with GOVCRM_SMS_SECRET. The same header signs our outgoing API calls.
- Twilio-style form webhook: header `X-Twilio-Signature`, base64 of the HMAC-SHA1, keyed with the
  auth token (GOVCRM_SMS_SECRET here), of the full URL Twilio requested followed by every POST
  parameter name and value, sorted by name (values of a repeated name sorted too), as Twilio's
  own validators compute it. A URL with an explicit port is also tried without it, and one
  without a port also with the scheme's default port, as Twilio's libraries do.
- Comparisons are constant-time; an empty secret never validates anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

GENERIC_HEADER = "X-GovCRM-Signature"
TWILIO_HEADER = "X-Twilio-Signature"
DEFAULT_PORTS = {"https": 443, "http": 80}


def generic_signature(secret: str, body: bytes) -> str:
    """The value of the X-GovCRM-Signature header for this body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def generic_valid(secret: str, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(generic_signature(secret, body).encode(), header.strip().encode())


def twilio_signature(token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's X-Twilio-Signature for a form POST to `url` with these (name, value) pairs."""
    by_name: dict[str, list[str]] = {}
    for name, value in params:
        by_name.setdefault(name, []).append(value)
    text = url + "".join(name + value for name in sorted(by_name) for value in sorted(by_name[name]))
    return base64.b64encode(hmac.new(token.encode(), text.encode(), hashlib.sha1).digest()).decode()


def _url_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    out = [url]
    if parts.port is not None:
        out.append(urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])))
    elif parts.scheme in DEFAULT_PORTS:
        out.append(urlunsplit(parts._replace(netloc=f"{parts.netloc}:{DEFAULT_PORTS[parts.scheme]}")))
    return out


def twilio_valid(token: str, url: str, params: Iterable[tuple[str, str]], header: str | None) -> bool:
    if not token or not header:
        return False
    params = list(params)
    given = header.strip().encode()
    return any(hmac.compare_digest(twilio_signature(token, u, params).encode(), given) for u in _url_variants(url))
