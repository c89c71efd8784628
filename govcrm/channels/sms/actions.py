"""Inbound SMS → the one intake; opt-out and opt-in keywords.

Rules:
- Idempotent on the provider's message id (the interaction's `external_id`): a retried webhook
  creates nothing and gets the same answer.
- The sender's number, normalised to E.164, identifies the citizen. A message joins the
  citizen's open case (GOVCRM_THREAD_DAYS), else opens one in "unclassified". A sender that is
  not a valid phone number (an alphanumeric sender id) opens an anonymous case; the raw sender is
  kept in the interaction's data.
- A message that is only an opt-out keyword (STOP, UNSUBSCRIBE, 退订, TD, N — case-insensitive,
  trailing punctuation ignored) sets the citizen's `sms_opt_out` and opens no case; START or 订阅
  clears it. The keyword is kept on the citizen's timeline. Only the first delivery changes the
  flag, so a late retry of an old STOP cannot undo a newer START.
- Any other message from an opted-out citizen is taken as usual; it does not opt them back in
  (the notifications outbox keeps using other channels for them).
- An empty message without pictures is ignored (nothing to register).
- The language of a new case is Chinese when the text has Chinese characters, else English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from govcrm.channels.intake import IntakeMessage, intake_receive
from govcrm.citizens.actions import CitizenInput, citizen_input_clean, citizen_sms_opt_out_set
from govcrm.citizens.models import Citizen
from govcrm.common.errors import ValidationFailed

from .parsing import InboundSms

CHANNEL = "sms"
OPT_OUT_KEYWORDS = frozenset({"STOP", "UNSUBSCRIBE", "退订", "TD", "N"})
OPT_IN_KEYWORDS = frozenset({"START", "订阅"})
_EDGE = " \t\r\n.,;:!?。，；：！？~～"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class SmsOutcome:
    status: str  # new_case | threaded | duplicate | opted_out | opted_in | ignored
    case_number: str | None = None


def keyword_of(text: str) -> str | None:
    """"out" or "in" when the whole message is an opt-out or opt-in keyword, else None."""
    word = text.strip(_EDGE).upper()
    if word in OPT_OUT_KEYWORDS:
        return "out"
    if word in OPT_IN_KEYWORDS:
        return "in"
    return None


def language_of(text: str) -> str:
    return "zh-hans" if _CJK.search(text) or not text.strip() else "en"


def _citizen(sender: str, language: str) -> CitizenInput | None:
    try:
        return citizen_input_clean(phone=sender, language=language, preferred_channel=Citizen.Channel.SMS,
                                   field_prefix="sms")
    except ValidationFailed:
        return None


def _set_opt_out(citizen_id: int, opted_out: bool) -> None:
    citizen_sms_opt_out_set(citizen_id=citizen_id, opted_out=opted_out)


def sms_receive(sms: InboundSms) -> SmsOutcome:
    """Store one inbound SMS (see the module's rules) and say what became of it."""
    language = language_of(sms.text)
    citizen = _citizen(sms.sender, language)
    data = {"provider": sms.provider, "from": sms.sender, "to": sms.recipient}
    if sms.received_at:
        data["received_at"] = sms.received_at
    if sms.media:
        data["media"] = [{"url": url, "content_type": ctype} for url, ctype in sms.media]
    keyword = keyword_of(sms.text)
    if keyword is not None:
        if citizen is None:
            return SmsOutcome("ignored")
        with transaction.atomic():
            result = intake_receive(IntakeMessage(
                channel=CHANNEL, text=sms.text, external_id=sms.message_id, citizen=citizen, create_case=False,
                language=language, data={**data, "keyword": f"opt_{keyword}"},
            ))
            if result.created and result.interaction.citizen_id:
                _set_opt_out(result.interaction.citizen_id, keyword == "out")
        return SmsOutcome("opted_out" if keyword == "out" else "opted_in")
    if not sms.text and not sms.media:
        return SmsOutcome("ignored")
    text = sms.text
    if not text:
        with translation.override(settings.LANGUAGE_CODE):  # stored text is in the centre's language
            text = _("(picture message without text)")
    result = intake_receive(IntakeMessage(
        channel=CHANNEL, text=text, external_id=sms.message_id, thread_to_open_case=True, citizen=citizen,
        language=language, data=data,
    ))
    number = result.case.number if result.case else None
    if not result.created:
        return SmsOutcome("duplicate", number)
    return SmsOutcome("new_case" if result.new_case else "threaded", number)
