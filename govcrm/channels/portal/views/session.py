"""The cases this browser may see: the ones it submitted, or whose number and query code it gave.

The query code never travels in a URL (it would end up in logs and Referer headers): proving it
once puts the case number in the session, and the case pages check the session.
"""

from __future__ import annotations

SESSION_KEY = "portal_cases"
REMEMBERED = 20


def remember(request, number: str) -> None:
    known = [n for n in request.session.get(SESSION_KEY, []) if n != number]
    request.session[SESSION_KEY] = [number, *known][:REMEMBERED]


def known_cases(request) -> list[str]:
    return list(request.session.get(SESSION_KEY, []))


def is_known(request, number: str) -> bool:
    return number in request.session.get(SESSION_KEY, [])


def forget_all(request) -> None:
    request.session.pop(SESSION_KEY, None)
