"""In-process cache of the reference data read at every intake and move.

Categories, deadline policies, calendar overrides and dispatch rules change rarely (in the
admin) and are read on every request. Each process keeps them for at most REFERENCE_TTL
seconds; a save or delete through the models clears this process's copy at once, so the
process that served the admin sees the change immediately and the others within the TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

REFERENCE_TTL = 30.0
_lock = threading.Lock()
_store: dict[str, tuple[float, Any]] = {}


def cached(name: str, loader: Callable[[], Any]) -> Any:
    now = time.monotonic()
    hit = _store.get(name)
    if hit and hit[0] > now:
        return hit[1]
    value = loader()
    with _lock:
        _store[name] = (now + REFERENCE_TTL, value)
    return value


def invalidate() -> None:
    with _lock:
        _store.clear()


class InvalidatesReferenceCache:
    """Mixin for reference models: saving or deleting one clears the cache of this process."""

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        invalidate()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        invalidate()
        return result
