"""The request being served, for audit records written deep inside reads and actions.

`AuditContextMiddleware` puts the request in a context variable for the time of the view and
writes the sensitive-read records collected meanwhile in one INSERT at the end (a list page that
shows fifty phone numbers costs one statement, not fifty). Outside a request (commands, tasks)
there is no context and records are written at once.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field

_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("govcrm_audit", default=None)


@dataclass
class RequestContext:
    request: object
    pending: list = field(default_factory=list)


def current() -> RequestContext | None:
    return _current.get()


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .actions import audit_flush

        ctx = RequestContext(request)
        token = _current.set(ctx)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
            if ctx.pending:
                audit_flush(ctx.pending)
