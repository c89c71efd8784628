"""Read replica for dashboards: heavy reads that may be a few seconds old go to DATABASES["replica"].

Rules:
- The replica exists only when GOVCRM_REPLICA_URL is set (a PostgreSQL streaming replica, see
  docs/deploy.md); without it everything reads and writes "default", unchanged.
- Reads go to the replica only inside `replica_reads()` (a context manager, and a view decorator
  that applies it to GET and HEAD requests only). Nothing else is routed: a read that feeds a
  write (an action, a form) must see the primary, because the replica lags.
- Writes always go to "default", even inside `replica_reads()`; migrations run on "default" only
  (the replica is read-only and receives the schema by replication).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from django.conf import settings

REPLICA = "replica"
_reading_replica: ContextVar[bool] = ContextVar("govcrm_reading_replica", default=False)


def replica_alias() -> str:
    """The alias dashboards read from: "replica" when one is configured, else "default"."""
    return REPLICA if REPLICA in settings.DATABASES else "default"


@contextlib.contextmanager
def replica_reads() -> Iterator[str]:
    """Within the block, ORM reads go to the replica (when configured); yields the alias used."""
    token = _reading_replica.set(True)
    try:
        yield replica_alias()
    finally:
        _reading_replica.reset(token)


def replica_view(view: Callable) -> Callable:
    """Decorate a dashboard view: its GET/HEAD requests read from the replica."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        with replica_reads():
            return view(request, *args, **kwargs)

    return wrapped


class ReplicaRouter:
    """DATABASE_ROUTERS entry: see the module's rules."""

    def db_for_read(self, model, **hints) -> str | None:
        if _reading_replica.get() and REPLICA in settings.DATABASES:
            return REPLICA
        return None

    def db_for_write(self, model, **hints) -> str:
        return "default"

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db != REPLICA
