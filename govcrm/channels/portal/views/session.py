"""The cases this browser may see: the ones it submitted, or whose number and query code it gave.

The query code never travels in a URL (it would end up in logs and Referer headers): proving it
once puts the case number in a signed cookie (`COOKIE`, Django's `set_signed_cookie`: HMAC with
the secret key, a timestamp checked against the session's age; HttpOnly, SameSite=Lax, Secure
where sessions are), and the case pages check that cookie. A signed cookie and not the session:
a citizen who only submits or tracks a request then has no session row in the database (it was
an INSERT and a twentieth of the CPU of every portal intake, bench/RESULTS.md session 7). The
cookie holds case numbers only, which are not secret without their query codes.

Numbers a session remembered before this cookie existed are still read (and forgotten).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

COOKIE = "govcrm_cases"
SALT = "govcrm.portal.cases"
SESSION_KEY = "portal_cases"  # where releases before the cookie kept them
REMEMBERED = 20


def known_cases(request) -> list[str]:
    if not hasattr(request, "_portal_cases"):
        try:
            numbers = request.get_signed_cookie(COOKIE, default="", salt=SALT,
                                                max_age=settings.SESSION_COOKIE_AGE).split(",")
        except signing.BadSignature:  # altered, or a stale format: remembers nothing
            numbers = []
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            numbers += request.session.get(SESSION_KEY, [])
        request._portal_cases = list(dict.fromkeys(n for n in numbers if n))[:REMEMBERED]
    return list(request._portal_cases)


def is_known(request, number: str) -> bool:
    return number in known_cases(request)


def remember(request, response, number: str) -> None:
    """Add `number` (first) to the cases this browser may see; `response` carries the cookie."""
    numbers = [number, *(n for n in known_cases(request) if n != number)][:REMEMBERED]
    request._portal_cases = numbers
    response.set_signed_cookie(COOKIE, ",".join(numbers), salt=SALT, max_age=settings.SESSION_COOKIE_AGE,
                               secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax")


def forget_all(request, response) -> None:
    request._portal_cases = []
    response.delete_cookie(COOKIE, samesite="Lax")
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        request.session.pop(SESSION_KEY, None)
