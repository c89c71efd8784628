"""Who is on the other end of a request: the client's address.

Rules:
- By default the address is the socket peer (`REMOTE_ADDR`). A header such as X-Forwarded-For
  can be forged by any client, so it is read only when the operator says a reverse proxy sets it:
  `GOVCRM_CLIENT_ADDRESS_HEADER=X-Forwarded-For` (with `GOVCRM_TRUSTED_PROXY_HOPS`, default 1,
  the number of proxies of ours in front of the app).
- Each of our proxies appends the address it saw, so the client is the entry `hops` from the
  right; entries further left were written by the client and are ignored. A header with fewer
  entries than hops (the request did not come through the proxies) falls back to REMOTE_ADDR.
Used by the sign-in lockout, the rate limits and the audit log.
"""

from __future__ import annotations

from django.conf import settings


def _meta_key(header: str) -> str:
    return "HTTP_" + header.strip().upper().replace("-", "_")


def client_address(request) -> str:
    if request is None:
        return ""
    peer = request.META.get("REMOTE_ADDR") or ""
    header = getattr(settings, "GOVCRM_CLIENT_ADDRESS_HEADER", "")
    if not header:
        return peer
    hops = max(1, int(getattr(settings, "GOVCRM_TRUSTED_PROXY_HOPS", 1)))
    entries = [e.strip() for e in request.META.get(_meta_key(header), "").split(",") if e.strip()]
    if len(entries) < hops:
        return peer
    return entries[-hops]
