"""The two webhook formats an SMS provider posts, turned into one `InboundSms`.

- Generic JSON: `{"id", "from", "to", "text", "received_at"}`; `id`, `from` and `text` are required
  (`text` may be empty), `received_at` is kept as given (ISO 8601).
- Twilio-style form fields: `MessageSid`, `From`, `To`, `Body`, `NumMedia` and, per media item,
  `MediaUrl<n>` / `MediaContentType<n>`. The media stay at the provider; their URLs are kept.

Anything malformed raises ValidationFailed; nothing is stored then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.http import QueryDict
from django.utils.translation import gettext as _

from govcrm.common.errors import ValidationFailed

MAX_ID = 200
MAX_MEDIA = 10


@dataclass(frozen=True)
class InboundSms:
    provider: str  # "generic" or "twilio"
    message_id: str
    sender: str  # as the provider gave it; normalised to E.164 at intake
    recipient: str
    text: str
    received_at: str = ""
    media: tuple[tuple[str, str], ...] = ()  # (url, content type)


def _fail(field: str) -> ValidationFailed:
    msg = _("The SMS webhook is missing or has an invalid “%(field)s”.") % {"field": field}
    return ValidationFailed(msg, details={field: msg})


def _text(value, field: str, *, required: bool = True, limit: int = MAX_ID) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise _fail(field)
    value = str(value).strip()
    if (required and not value) or len(value) > limit:
        raise _fail(field)
    return value


def parse_generic(body: bytes) -> InboundSms:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _fail("body") from None
    if not isinstance(data, dict):
        raise _fail("body")
    text = data.get("text")
    if not isinstance(text, str):
        raise _fail("text")
    return InboundSms(
        provider="generic", message_id=_text(data.get("id"), "id"), sender=_text(data.get("from"), "from", limit=64),
        recipient=_text(data.get("to"), "to", required=False, limit=64), text=text.strip(),
        received_at=_text(data.get("received_at"), "received_at", required=False, limit=64),
    )


def parse_twilio(params: QueryDict) -> InboundSms:
    try:
        count = min(int(params.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        raise _fail("NumMedia") from None
    media = tuple((params.get(f"MediaUrl{i}", ""), params.get(f"MediaContentType{i}", "")) for i in range(count))
    return InboundSms(
        provider="twilio", message_id=_text(params.get("MessageSid") or params.get("SmsSid"), "MessageSid"),
        sender=_text(params.get("From"), "From", limit=64), recipient=_text(params.get("To"), "To", required=False,
                                                                             limit=64),
        text=(params.get("Body") or "").strip(), media=tuple(m for m in media if m[0]),
    )
