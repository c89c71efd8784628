"""API authentication: bearer tokens for systems, the session (with CSRF) for the console's own calls.

Rules for bearer tokens:
- A token is valid while not revoked, not expired and its user active (organization.actions).
- Each route needs one scope, from `REQUIRED_SCOPES` (first path segment after /api/v1/, read for
  GET/HEAD, write otherwise); a route missing from the table needs a scope no token has, so a
  new route is closed to tokens until it is listed. A token without the scope gets 403.
- Failed tokens count against the client's address (common/ratelimit.py, `api_auth_failed`):
  past the limit the API answers 429 to that address's bearer requests until the window ends.
- A token with a unit scope (`ApiToken.unit`, a department system's token) acts only for that unit's
  subtree, whatever its account's unit (organization.queries.actor_for_user).
The session (the console's own HTMX calls) is not scoped: the staff member's role limits it.
"""

from __future__ import annotations

from ninja.security import HttpBearer, django_auth

from govcrm.common import ratelimit
from govcrm.common.errors import DomainError
from govcrm.common.network import client_address

# (first path segment, "read" | "write") -> the scope that route needs.
REQUIRED_SCOPES: dict[tuple[str, str], str] = {
    ("cases", "read"): "cases:read",
    ("cases", "write"): "cases:write",
    ("receipts", "read"): "cases:write",  # a registration answered 202 is polled by who may register
    ("citizens", "read"): "citizens:read",
    ("units", "read"): "reference:read",
    ("areas", "read"): "reference:read",
    ("categories", "read"): "reference:read",
    ("knowledge", "read"): "knowledge:read",
}
UNLISTED = "-unlisted-"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class InsufficientScope(DomainError):
    status = 403
    code = "insufficient_scope"


def required_scope(method: str, path: str) -> str:
    rest = path.split("/api/v1/", 1)[-1]
    segment = rest.strip("/").split("/", 1)[0]
    mode = "read" if method in ("GET", "HEAD") else "write"
    return REQUIRED_SCOPES.get((segment, mode), UNLISTED)


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        from django.utils.translation import gettext as _

        from govcrm.organization.actions import api_token_check

        address = client_address(request)
        wait = ratelimit.blocked("api_auth_failed", address)
        if wait is not None:
            raise RateLimited(_("Too many requests from your address. Please wait and try again."), wait)
        record = api_token_check(token)
        if record is None:
            ratelimit.hit("api_auth_failed", address)
            return None
        needed = required_scope(request.method, request.path)
        if needed not in record.scopes:
            raise InsufficientScope(_("This token does not have the scope %(scope)s.") % {"scope": needed},
                                    details={"scope": needed})
        if record.unit_id is not None:
            # A department system's token: organization.queries.actor_for_user narrows the actor to it.
            record.user.api_token_unit = record.unit
        request.user = record.user
        request.auth_token = record
        return record.user


api_auth = [BearerToken(), django_auth]
