"""Sign-in lockout: repeated failed passwords lock the account for a while, for everyone who signs in.

Rules (per process-shared cache: the file cache on one machine, the database cache on several):
- `PER_CLIENT` failures for one username from one address within `WINDOW` seconds lock that
  username from that address for `WINDOW` seconds — the usual brute force stops there;
- `PER_ACCOUNT` failures for one username from any addresses within `WINDOW` lock the username
  everywhere (a distributed guess), a higher bar so that one attacker cannot lock a colleague out
  with a handful of tries;
- a successful sign-in clears the client's count; a locked sign-in is refused even with the right
  password, and is not counted again (the lock does not extend itself).
Enforced in the authentication backend, so the console, the admin and any other login form obey it.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

from govcrm.common import network

PER_CLIENT = 5
PER_ACCOUNT = 20
WINDOW = 15 * 60


def _key(kind: str, username: str, address: str = "") -> str:
    digest = hashlib.sha256(f"{username.strip().lower()}|{address}".encode()).hexdigest()[:32]
    return f"govcrm:lockout:{kind}:{digest}"


def client_address(request) -> str:
    return network.client_address(request)


def is_locked(username: str, address: str) -> bool:
    counts = cache.get_many([_key("client", username, address), _key("account", username)])
    return (counts.get(_key("client", username, address), 0) >= PER_CLIENT
            or counts.get(_key("account", username), 0) >= PER_ACCOUNT)


def _bump(key: str) -> None:
    if cache.add(key, 1, WINDOW):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, WINDOW)


def failure_record(username: str, address: str) -> None:
    _bump(_key("client", username, address))
    _bump(_key("account", username))


def success_record(username: str, address: str) -> None:
    cache.delete(_key("client", username, address))


class LockoutModelBackend(ModelBackend):
    """Django's username/password backend behind the lockout."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username:
            return super().authenticate(request, username=username, password=password, **kwargs)
        address = client_address(request)
        if is_locked(username, address):
            raise PermissionDenied("locked")  # stops Django's authenticate(): no other backend is tried
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            failure_record(username, address)
        else:
            success_record(username, address)
        return user
