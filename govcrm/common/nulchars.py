"""Requests that carry a NUL character (U+0000) are refused before any view reads them.

Rules:
- Checked: the path, the query string, and a JSON body (the API's); a form field with a NUL is
  already refused by Django's forms (`ProhibitNullCharactersValidator`).
- Why: PostgreSQL text cannot hold a NUL, so one that reached a query or a write was a 500 there
  (SQLite takes it): `/console/cases/20%00/`, `/track/20%00/`, `/open311/v2/requests/20%00.json`,
  `?area=` or `?q=` of `/api/v1/cases`… No legitimate client sends one.
- The answer is in the caller's format and language: the API's error body (422
  `validation_failed`, like any input the schema refuses), Open311's error list (400), else a
  plain-text 400.
"""

from __future__ import annotations

import re

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

ESCAPED_NUL = re.compile(rb"(?<!\\)\\u0000")


def _where(request) -> str | None:
    if "\x00" in request.path:
        return "path"
    if "%00" in request.META.get("QUERY_STRING", "") or "\x00" in request.META.get("QUERY_STRING", ""):
        return "query"
    if request.content_type == "application/json" and request.method not in ("GET", "HEAD"):
        body = request.body
        if b"\x00" in body or ESCAPED_NUL.search(body):
            return "body"
    return None


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = _where(request)
        if where is None:
            return self.get_response(request)
        message = _("The request contains a NUL character, which is never valid here.")
        if request.path.startswith("/api/"):
            return JsonResponse({"message": _("The request is not valid."), "code": "validation_failed",
                                 "details": {where: message}}, status=422)
        if request.path.startswith("/open311/"):
            from govcrm.channels.open311.render import render_error_for_path

            return render_error_for_path(request.path, 400, message)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
