"""Rate limits of the public endpoints, per client address, on Django's cache.

Rules:
- Each public entry point belongs to one rule of `GOVCRM_RATE_LIMIT_RULES` (settings): at most
  `limit` requests per `seconds` from one client address (common/network.py: the socket peer,
  or the proxy's header when configured). Windows are fixed (counted from the epoch), so a client
  may send up to twice the limit across a window's edge — a cap against floods, not a quota.
- Past the limit the request is not served: 429 Too Many Requests with `Retry-After` (seconds
  to the end of the window), in the caller's format: Open311's error list (JSON or XML),
  the API's JSON error, plain text for provider webhooks, an HTML page in the user's language
  for the portal. Nothing is stored.
- The REST API counts only failed bearer tokens (`api_auth_failed`, see common/auth.py): a
  client that guesses tokens is refused for the rest of the window, a client with a good
  token is not limited here (its role and scopes limit what it can do).
- `GOVCRM_RATE_LIMITS`: `on` (default), `off` (no limits: a load test from one loopback
  address), or a number that scales every limit (`10` allows ten times as many requests).
- The counts live in the shared cache: the file cache of the embedded default (counts are
  approximate when several processes hit the same key at once), the database or Redis cache
  when scaled.
Why not django-ratelimit: its decorator raises a 403-style exception without the time to wait,
and each view would need its own decorator; one table here keeps every public path in view.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .network import client_address


@dataclass(frozen=True)
class Route:
    rule: str
    methods: frozenset[str] | None  # None: every method
    pattern: re.Pattern
    answer: str  # how a refusal is rendered: open311, json, text, portal


ROUTES: tuple[Route, ...] = (
    Route("portal_submit", frozenset({"POST"}), re.compile(r"^/$"), "portal"),
    Route("portal_track", frozenset({"POST"}), re.compile(r"^/track/"), "portal"),
    Route("portal_signin", frozenset({"POST"}), re.compile(r"^/signin/"), "portal"),
    Route("open311_post", frozenset({"POST"}), re.compile(r"^/open311/"), "open311"),
    Route("open311_get", None, re.compile(r"^/open311/"), "open311"),
    Route("webhook", None, re.compile(r"^/channels/(sms/|wechat/|cti/events)"), "text"),
    # Self-service search and offers: anonymous, and a search that finds nothing is stored as a
    # knowledge gap, so a flood would both load the server and inflate the gap counts.
    Route("portal_help", None, re.compile(r"^/help/"), "portal"),
)
DEFAULT_RULES: dict[str, tuple[int, int]] = {
    "portal_submit": (10, 600),
    "portal_track": (30, 600),
    "portal_signin": (20, 600),
    "open311_post": (60, 60),
    "open311_get": (300, 60),
    "webhook": (1200, 60),
    "portal_help": (120, 60),
    "api_auth_failed": (20, 600),
}


def _factor() -> float | None:
    """None when limits are off, else the scale of every limit."""
    mode = str(getattr(settings, "GOVCRM_RATE_LIMITS", "on")).strip().lower()
    if mode in ("off", "0", "false", "no"):
        return None
    if mode in ("on", "", "true", "yes", "1"):
        return 1.0
    return float(mode)


def rule_limits(rule: str) -> tuple[int, int] | None:
    """(limit, seconds) of a rule in force, or None when limits are off."""
    factor = _factor()
    if factor is None:
        return None
    limit, seconds = {**DEFAULT_RULES, **getattr(settings, "GOVCRM_RATE_LIMIT_RULES", {})}[rule]
    return max(1, math.floor(limit * factor)), seconds


def _key(rule: str, address: str, window: int) -> str:
    digest = hashlib.sha256(address.encode()).hexdigest()[:24]
    return f"govcrm:rl:{rule}:{digest}:{window}"


def _window(seconds: int) -> tuple[int, int]:
    now = time.time()
    return int(now // seconds), max(1, math.ceil(seconds - now % seconds))


def hit(rule: str, address: str) -> int | None:
    """Count one request; the seconds to wait if it is over the limit, else None."""
    limits = rule_limits(rule)
    if limits is None:
        return None
    limit, seconds = limits
    window, retry_after = _window(seconds)
    key = _key(rule, address, window)
    try:
        count = cache.incr(key)  # the usual case first: the window's counter exists
    except ValueError:  # a new window (or another process created it meanwhile: count on it)
        count = 1 if cache.add(key, 1, seconds + 1) else cache.incr(key)
    return retry_after if count > limit else None


def blocked(rule: str, address: str) -> int | None:
    """Without counting: the seconds to wait if the rule's limit is reached, else None."""
    limits = rule_limits(rule)
    if limits is None:
        return None
    limit, seconds = limits
    window, retry_after = _window(seconds)
    return retry_after if (cache.get(_key(rule, address, window)) or 0) >= limit else None


def route_for(method: str, path: str) -> Route | None:
    for route in ROUTES:
        if (route.methods is None or method in route.methods) and route.pattern.match(path):
            return route
    return None


def _message() -> str:
    return _("Too many requests from your address. Please wait and try again.")


def refusal(request, answer: str, retry_after: int) -> HttpResponse:
    if answer == "open311":
        from govcrm.channels.open311.render import render_error_for_path

        response = render_error_for_path(request.path, 429, _message())
    elif answer == "json":
        response = JsonResponse({"message": _message(), "code": "rate_limited", "details": {}}, status=429)
    elif answer == "portal":
        response = render(request, "portal/rate_limited.html",
                          {"message": _message(), "retry_after": retry_after}, status=429)
    else:
        response = HttpResponse(_message(), status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    return response


class RateLimitMiddleware:
    """Counts each request to a public path against its rule; refuses it past the limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        route = route_for(request.method, request.path_info)
        if route is not None:
            retry_after = hit(route.rule, client_address(request))
            if retry_after is not None:
                return refusal(request, route.answer, retry_after)
        return self.get_response(request)
