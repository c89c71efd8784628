"""Optional sign-in of a citizen with a one-time code sent to their mobile phone or e-mail.

A citizen account is nothing more than a proved identity: after sign-in the session holds the
normalised phone number or e-mail address, "my requests" lists the cases of the citizen record
found by it (`citizens.actions.citizen_find`), and the request form is filled in with it.
Signing in creates no record; the first request does, through the intake.

Rules:
- A code is 6 random digits, valid for `CODE_TTL` seconds and for `MAX_TRIES` wrong guesses;
  a new code replaces the old one; a right code is used up. Only a keyed hash of the code is kept
  (in Django's cache, shared by the web processes when the cache is).
- Sending is limited: one code per identity per `RESEND_SECONDS`, and `MAX_SENDS_PER_ADDRESS`
  per client address per hour, so that the portal cannot be used to flood someone's phone.
- E-mail goes through Django's mail backend (the console backend under `make run`). Text messages
  are written to the log, as the notifications' console SMS backend does: a real SMS gateway for
  messages that belong to no case is not wired in yet.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from govcrm.citizens import identities
from govcrm.citizens.actions import citizen_find
from govcrm.citizens.models import Citizen
from govcrm.common.errors import NotAllowed, ValidationFailed

logger = logging.getLogger(__name__)

CODE_TTL = 600
MAX_TRIES = 5
RESEND_SECONDS = 60
MAX_SENDS_PER_ADDRESS = 20
SESSION_KEY = "portal_identity"


def identity_parse(raw: str, *, field: str = "identity") -> tuple[str, str]:
    """(kind, normalised value) of a mobile number or an e-mail address typed by the citizen."""
    raw = (raw or "").strip()
    kind = identities.EMAIL if "@" in raw else identities.PHONE
    if not raw:
        msg = _("Enter your mobile phone number or e-mail address.")
        raise ValidationFailed(msg, details={field: msg})
    return kind, identities.normalise(kind, raw, field=field)


def _digest(kind: str, value: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{value}:{code}".encode(), hashlib.sha256).hexdigest()


def _key(kind: str, value: str) -> str:
    return "portal:signin:" + hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _count(key: str, ttl: int) -> int:
    if cache.add(key, 1, ttl):
        return 1
    try:
        return cache.incr(key)
    except ValueError:
        cache.add(key, 1, ttl)
        return 1


def signin_code_send(*, kind: str, value: str, address: str) -> None:
    """Make a new code for this identity and send it; NotAllowed when sent too often."""
    if not cache.add(f"{_key(kind, value)}:resend", 1, RESEND_SECONDS):
        raise NotAllowed(_("A code was sent less than a minute ago. Please wait before asking for another."))
    if _count(f"portal:signin-sends:{address}", 3600) > MAX_SENDS_PER_ADDRESS:
        raise NotAllowed(_("Too many codes were asked for from this connection. Please try again later."))
    code = f"{secrets.randbelow(10**6):06d}"
    cache.set(_key(kind, value), {"digest": _digest(kind, value, code), "tries": 0}, CODE_TTL)
    text = _("Your sign-in code for the 12345 citizen portal is %(code)s. It is valid for 10 minutes. "
             "If you did not ask for it, ignore this message.") % {"code": code}
    if kind == identities.EMAIL:
        send_mail(_("Your sign-in code"), text, settings.GOVCRM_MAIL_FROM, [value])
    else:
        logger.warning("[sms to %s] %s", value, text)


def signin_code_check(*, kind: str, value: str, code: str) -> bool:
    """Whether `code` is the identity's current code; a right code is used up, wrong ones are counted."""
    key = _key(kind, value)
    pending = cache.get(key)
    if not pending or pending["tries"] >= MAX_TRIES:
        return False
    if hmac.compare_digest(pending["digest"], _digest(kind, value, (code or "").strip())):
        cache.delete(key)
        return True
    cache.set(key, {**pending, "tries": pending["tries"] + 1}, CODE_TTL)
    return False


def signed_in_identity(request) -> tuple[str, str] | None:
    found = request.session.get(SESSION_KEY)
    return (found["kind"], found["value"]) if found else None


def signed_in_citizen(request) -> Citizen | None:
    """The citizen record of the signed-in identity (None when not signed in, or no record yet)."""
    identity = signed_in_identity(request)
    return citizen_find(kind=identity[0], normalised=identity[1]) if identity else None


def sign_in(request, kind: str, value: str) -> None:
    request.session.cycle_key()  # a new session id on sign-in: no session fixation
    request.session[SESSION_KEY] = {"kind": kind, "value": value}


def sign_out(request) -> None:
    request.session.pop(SESSION_KEY, None)


def masked(identity: tuple[str, str] | None) -> str:
    return identities.mask(*identity) if identity else ""
