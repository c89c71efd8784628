"""Limiting guesses of query codes: at most `MAX_FAILURES` wrong pairs per client address per window.

Rules:
- Only wrong pairs count; once the limit is reached every tracking attempt from that address is
  answered 429 until the window (started by the first failure) ends, right code or not, so that
  guessing cannot go on.
- The count lives in Django's cache (shared by all web processes when the cache is shared);
  the address is the client's as common/network.py finds it (the proxy's header when configured).
"""

from __future__ import annotations

from django.core.cache import cache

from govcrm.common import network

MAX_FAILURES = 10
WINDOW_SECONDS = 600


def _key(address: str) -> str:
    return f"portal:track-failures:{address}"


def client_address(request) -> str:
    return network.client_address(request) or "unknown"


def tracking_blocked(address: str) -> bool:
    return (cache.get(_key(address)) or 0) >= MAX_FAILURES


def tracking_failed(address: str) -> None:
    key = _key(address)
    if cache.add(key, 1, WINDOW_SECONDS):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr: this failure starts a new window
        cache.add(key, 1, WINDOW_SECONDS)
