"""The database briefly unreachable: a clean 503 in the caller's format, nothing half-written.

Rules:
- A database error that says the database cannot be reached or used right now
  (`django.db.OperationalError` or `InterfaceError`: connection refused, dropped or timed out,
  a server shutting down; on SQLite "database is locked" after the busy timeout) that escapes a
  view or a middleware is answered 503 Service Unavailable with `Retry-After`, never a 500 page:
  - under `/api/` and the channel webhooks `/channels/`: JSON in the API's error format,
    `{"message", "code": "database_unavailable", "details": {}}`;
  - Open311 (`/open311/`): the spec's error list (`[{code: 503, description}]` or `<errors>`), by
    its own `resource` decorator for its views, here for an outage met in a middleware (the rate
    limits' database cache, the session);
  - everywhere else (portal, console, admin): a short HTML page in the request's language.
- The answer is rendered without the database: no context processors, no session, no user.
- Nothing partial is written: every write runs in `transaction.atomic()`, so the server rolls
  back a transaction whose connection failed. A request whose commit reached the database but
  whose answer was lost is recognised when the client retries it (Idempotency-Key, the portal's
  form token, Open311's natural key, each channel's delivery id).
- Recovery needs no intervention: Django closes a connection that raised (at the end of the
  request), and the next request opens a new one once the database answers again.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults

logger = logging.getLogger(__name__)

UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5
JSON_PREFIXES = ("/api/", "/channels/")


def is_unavailable(exc: BaseException | None) -> bool:
    """True for the errors of a database that cannot be reached or used right now."""
    return isinstance(exc, UNAVAILABLE_ERRORS)


def unavailable_message() -> str:
    return _("The service is briefly unavailable. Nothing was saved; please try again in a few seconds.")


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 for `request` in its caller's format (JSON for machines, an HTML page for people)."""
    message = unavailable_message()
    if request.path.startswith("/open311/"):
        from govcrm.channels.open311.render import render_error_for_path

        response = render_error_for_path(request.path, 503, message)
    elif request.path.startswith(JSON_PREFIXES):
        response: HttpResponse = JsonResponse(
            {"message": message, "code": "database_unavailable", "details": {}}, status=503,
            json_dumps_params={"ensure_ascii": False})
    else:
        html = render_to_string("common/unavailable.html", {"message": message})
        response = HttpResponse(html, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Turns a view's database-unavailable error into `unavailable_response`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_unavailable(exception):
            return None
        logger.warning("database unavailable during %s %s: %s", request.method, request.path, exception)
        return unavailable_response(request)


def server_error(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """`handler500`: a database outage met outside a view (a middleware saving the session) is a 503 too."""
    if is_unavailable(sys.exc_info()[1]):
        return unavailable_response(request)
    return defaults.server_error(request, *args, **kwargs)
