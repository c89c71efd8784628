"""Signing webhook bodies, and checking a signature as a receiver does.

The header is `X-GovCRM-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]` where each `v1` is
HMAC-SHA256 with one of the subscriber's secrets over `<t>.` followed by the raw body bytes.
Two `v1` values are sent while a rotated secret's grace period runs (the new one first), so a
receiver can switch secrets without losing events. The timestamp is signed with the body: a
receiver refuses a signature older than its tolerance (5 minutes suggested), which stops a
captured request from being replayed later; the CloudEvents `id` catches a replay inside it.

`verify` is what docs/integration.md gives department IT; the tests use it in their receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-GovCRM-Signature"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header_value(secrets: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets)])


class BadSignature(ValueError):
    pass


def verify(body: bytes, header: str, secret: str, *, tolerance: int = TOLERANCE_SECONDS,
           now: float | None = None) -> int:
    """Check a received body against its header; return the signed timestamp or raise BadSignature."""
    parts = [p.split("=", 1) for p in (header or "").split(",") if "=" in p]
    timestamps = [v for k, v in parts if k.strip() == "t"]
    candidates = [v.strip() for k, v in parts if k.strip() == "v1"]
    if len(timestamps) != 1 or not timestamps[0].strip().isdigit() or not candidates:
        raise BadSignature("malformed signature header")
    timestamp = int(timestamps[0])
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        raise BadSignature("timestamp outside the tolerance (replayed or clock skew)")
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise BadSignature("no signature matches")
    return timestamp
