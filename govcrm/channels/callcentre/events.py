"""The CTI event a PBX or contact-centre platform posts, parsed into a `CtiEvent`.

`POST /channels/cti/events`, JSON:
`{"event", "call_id", "caller", "agent", "at", "recording_url", "digits", "case"}`
- `event`: "ringing", "answered", "ended" or "dtmf" (survey digits keyed in after a case reply).
- `call_id`: the PBX's id of the call (required, at most 128 characters).
- `caller`: the calling number, any format the PBX uses ("13800138000", "+86 138…", "anonymous").
- `agent`: the agent's GovCRM user name or phone extension (as in their staff profile).
- `at`: ISO 8601 time of the event; without an offset it is taken as local time (TIME_ZONE);
  missing: the time it arrives.
- `recording_url`: http(s) URL of the recording (usually with "ended").
- `digits`: DTMF digits (0–9, *, #), at most 16.
- `case`: optional case number, for survey calls the platform places about a known case.
Anything malformed raises ValidationFailed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from govcrm.common.errors import ValidationFailed

EVENTS = ("ringing", "answered", "ended", "dtmf")
DIGITS = re.compile(r"^[0-9*#]{1,16}$")
CASE_NUMBER = re.compile(r"^\d{8,20}$")


@dataclass(frozen=True)
class CtiEvent:
    event: str
    call_id: str
    at: dt.datetime
    caller: str = ""
    agent: str = ""
    recording_url: str = ""
    digits: str = ""
    case_number: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


def _fail(name: str) -> ValidationFailed:
    msg = _("The CTI event has a missing or invalid “%(field)s”.") % {"field": name}
    return ValidationFailed(msg, details={name: msg})


def _str(data: dict, name: str, limit: int, *, required: bool = False) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise _fail(name)
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise _fail(name)
    value = str(value).strip()
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise _fail(name)
    return value


def parse_event(body: bytes, *, now: dt.datetime | None = None) -> CtiEvent:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _fail("body") from None
    if not isinstance(data, dict):
        raise _fail("body")
    event = _str(data, "event", 16, required=True).lower()
    if event not in EVENTS:
        raise _fail("event")
    at_text = _str(data, "at", 64)
    at = now or timezone.now()
    if at_text:
        try:
            parsed = parse_datetime(at_text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise _fail("at")
        at = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
    recording = _str(data, "recording_url", 500)
    if recording and not recording.lower().startswith(("https://", "http://")):
        raise _fail("recording_url")
    digits = _str(data, "digits", 16)
    if digits and not DIGITS.match(digits):
        raise _fail("digits")
    if event == "dtmf" and not digits:
        raise _fail("digits")
    case_number = _str(data, "case", 20)
    if case_number and not CASE_NUMBER.match(case_number):
        raise _fail("case")
    return CtiEvent(
        event=event, call_id=_str(data, "call_id", 128, required=True), at=at, caller=_str(data, "caller", 32),
        agent=_str(data, "agent", 150), recording_url=recording, digits=digits, case_number=case_number,
        payload=data,
    )
