"""WeChat pushes → the one intake, and the passive reply that acknowledges them.

Rules:
- Idempotent on the push's natural key (MsgId, or "event:openid:CreateTime:Event" for events),
  which is the interaction's `external_id`; its unique constraint makes the dedupe atomic even
  when WeChat's retry arrives while the first request still runs. A retry gets the same reply.
- The follower is the citizen with that openid. Messages (text, image, voice, video, location,
  link) join the follower's open case (GOVCRM_THREAD_DAYS) or open one in "unclassified".
  A voice message counts by WeChat's `Recognition` text when present; a location gives the
  new case its latitude, longitude and address (`Label`); a location that joins an open case is
  kept in the interaction's data.
- Images are not downloaded in the request: their MediaId and PicUrl are stored, and the file is
  fetched afterwards by a task (`tasks.fetch_media`, enqueued on commit) from the media API.
- The passive reply is "已受理，工单号 …，查询码 …" (or "added to case …" when the message joined
  one), in the message's language: Chinese when the text has Chinese characters, English when
  it has only Latin letters, else the follower's saved language.
- Events: subscribe → a welcome in Chinese and English and an interaction without a case;
  unsubscribe → an interaction, no reply (WeChat would not deliver one); menu CLICK → an
  interaction and, for MENU_MY_CASES, the follower's open cases, else the help text. Other
  events (LOCATION reports, VIEW, SCAN…) are answered "success" and not stored.
- Stored texts for what is not text ("[Photo]", "Followed the account") are in the centre's
  language (LANGUAGE_CODE), as the rest of the case.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from govcrm.cases.queries import case_list_for_citizen
from govcrm.cases.workflow import Status
from govcrm.channels.intake import IntakeMessage, IntakeResult, intake_receive, interaction_attach
from govcrm.channels.models import Interaction
from govcrm.channels.uploads import clean_image
from govcrm.citizens import identities
from govcrm.citizens.actions import citizen_find, citizen_input_clean
from govcrm.citizens.models import Citizen
from govcrm.common.errors import DomainError, ValidationFailed

from .client import media_get
from .protocol import Push

logger = logging.getLogger(__name__)

CHANNEL = "wechat"
MESSAGE_KINDS = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})
STORED_EVENTS = frozenset({"subscribe", "unsubscribe", "click"})
MENU_MY_CASES = "MY_CASES"
MY_CASES_SHOWN = 5
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class PushOutcome:
    reply: str | None  # the passive reply's text; None: answer "success"
    status: str  # new_case | threaded | duplicate | event | ignored | refused
    case_number: str | None = None


def _language(push: Push, known: Citizen | None) -> str:
    text = push.content or push.recognition
    if _CJK.search(text):
        return "zh-hans"
    if _LATIN.search(text):
        return "en"
    return known.language if known else settings.LANGUAGE_CODE


def _content(push: Push) -> tuple[str, dict[str, Any]]:
    """The text stored for a message, and what else of it is kept in the interaction's data."""
    data: dict[str, Any] = {"msg_type": push.kind, "openid": push.openid, "create_time": push.create_time}
    with translation.override(settings.LANGUAGE_CODE):
        if push.kind == "text":
            return push.content, data
        if push.kind == "image":
            data.update(media_id=push.media_id, pic_url=push.pic_url)
            return _("[Photo]"), data
        if push.kind == "voice":
            data.update(media_id=push.media_id, format=push.voice_format, recognition=push.recognition)
            return push.recognition or _("[Voice message]"), data
        if push.kind in ("video", "shortvideo"):
            data.update(media_id=push.media_id)
            return _("[Video]"), data
        if push.kind == "location":
            data.update(lat=push.lat, lon=push.lon, scale=push.scale, label=push.label)
            return _("[Location] %(label)s") % {"label": push.label or f"{push.lat}, {push.lon}"}, data
        data.update(title=push.title, url=push.url)  # link
        return f"{push.title}\n{push.url}".strip(), data


def _opened_by(result: IntakeResult) -> bool:
    """Whether this interaction opened its case (for a retry, which intake does not tell)."""
    if result.created:
        return result.new_case
    return not Interaction.objects.filter(case_id=result.case.pk, id__lt=result.interaction.pk).exists()


def _acknowledgement(result: IntakeResult, language: str) -> str:
    case = result.case
    with translation.override(language):
        if case is None:  # not expected for a message, but a reply must still be given
            return _("Received.")
        if _opened_by(result):
            return _("Received. Case number %(number)s, query code %(code)s.") % {
                "number": case.number, "code": case.query_code}
        return _("Received and added to case %(number)s (query code %(code)s).") % {
            "number": case.number, "code": case.query_code}


def _enqueue_media(interaction_id: int) -> None:
    from .tasks import fetch_media

    try:
        fetch_media.enqueue(interaction_id)
    except Exception:  # the interaction keeps its MediaId; the photo can be fetched again by hand
        logger.exception("could not enqueue the media fetch of interaction %s", interaction_id)


def wechat_receive(push: Push) -> PushOutcome:
    """Store one push (see the module's rules) and say what to reply."""
    if push.kind == "event":
        return _event(push)
    if push.kind not in MESSAGE_KINDS:
        return PushOutcome(None, "ignored")
    known = citizen_find(kind=identities.WECHAT, normalised=push.openid)
    language = _language(push, known)
    text, data = _content(push)
    if not text.strip():
        with translation.override(language):
            return PushOutcome(_("Please describe your request in words, or send a photo or your location."),
                               "ignored")
    citizen = citizen_input_clean(wechat_openid=push.openid, language=language,
                                  preferred_channel=Citizen.Channel.WECHAT)
    is_new_location = push.kind == "location" and push.lat is not None and push.lon is not None
    try:
        with transaction.atomic():
            result = intake_receive(IntakeMessage(
                channel=CHANNEL, text=text, external_id=push.natural_key, thread_to_open_case=True, citizen=citizen,
                language=language, data=data, address=push.label[:300] if is_new_location else "",
                lat=push.lat if is_new_location else None, lon=push.lon if is_new_location else None,
            ))
            if result.created and push.kind == "image" and push.media_id:
                transaction.on_commit(partial(_enqueue_media, result.interaction.pk))
    except DomainError as err:
        logger.warning("WeChat push %s refused: %s", push.natural_key, err.message)
        with translation.override(language):
            return PushOutcome(_("Sorry, we could not register this message: %(reason)s") % {"reason": err.message},
                               "refused")
    status = "duplicate" if not result.created else ("new_case" if result.new_case else "threaded")
    return PushOutcome(_acknowledgement(result, language), status, result.case.number if result.case else None)


def welcome_text() -> str:
    parts = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            parts.append(_("Welcome to the 12345 citizen service hotline. Send us your request, complaint or "
                           "suggestion as text, a photo, a voice message or your location, and we will reply "
                           "with a case number."))
    return "\n\n".join(parts)


def _my_cases(citizen: Citizen | None) -> str:
    language = citizen.language if citizen else settings.LANGUAGE_CODE
    cases = []
    if citizen is not None:
        cases = list(case_list_for_citizen(citizen.pk).exclude(status=Status.CLOSED)[:MY_CASES_SHOWN])
    with translation.override(language):
        if not cases:
            return _("You have no open cases.")
        lines = [_("Your open cases:")]
        lines += [f"{c.number} · {Status(c.status).label}" for c in cases]
        return "\n".join(lines)


def _event(push: Push) -> PushOutcome:
    event = "subscribe" if push.event.startswith("subscribe") else push.event
    if event not in STORED_EVENTS:
        return PushOutcome(None, "ignored")
    with translation.override(settings.LANGUAGE_CODE):
        text = {
            "subscribe": _("Followed the official account"),
            "unsubscribe": _("Unfollowed the official account"),
            "click": _("Menu: %(key)s") % {"key": push.event_key},
        }[event]
    data = {"event": event, "event_key": push.event_key, "openid": push.openid, "create_time": push.create_time}
    citizen = citizen_input_clean(wechat_openid=push.openid, preferred_channel=Citizen.Channel.WECHAT)
    result = intake_receive(IntakeMessage(channel=CHANNEL, text=text, external_id=push.natural_key, citizen=citizen,
                                          create_case=False, data=data))
    status = "event" if result.created else "duplicate"
    if event == "subscribe":
        return PushOutcome(welcome_text(), status)
    if event == "unsubscribe":
        return PushOutcome(None, status)
    if push.event_key == MENU_MY_CASES:
        return PushOutcome(_my_cases(result.interaction.citizen), status)
    return PushOutcome(welcome_text(), status)


def wechat_media_fetch(*, interaction_id: int) -> str:
    """Download the photo of an image message and keep it (without metadata) on its interaction.

    Safe to run twice: an interaction that has its file already is left alone. Network and API
    errors propagate for the task to retry; a file that is not a picture is logged and dropped.
    """
    interaction = Interaction.objects.filter(pk=interaction_id, channel=CHANNEL).first()
    if interaction is None:
        return "missing"
    media_id = interaction.data.get("media_id")
    if not media_id:
        return "nothing"
    if interaction.attachments.exists():
        return "done"
    raw, _ctype = media_get(media_id)
    try:
        photo = clean_image(raw, f"wechat-{interaction.pk}", field="media")
    except ValidationFailed as err:
        logger.warning("WeChat media %s of interaction %s refused: %s", media_id, interaction_id, err.message)
        wechat_media_give_up(interaction_id=interaction.pk, reason="refused")
        return "refused"
    stored = interaction_attach(interaction_id=interaction.pk, file=photo, only_if_none=True)
    return "stored" if stored else "done"


def wechat_media_give_up(*, interaction_id: int, reason: str) -> None:
    """Record that this photo will never be fetched (refused, expired), so the sweep stops trying."""
    with transaction.atomic():
        interaction = Interaction.objects.select_for_update().filter(pk=interaction_id).first()
        if interaction is not None and not interaction.data.get("media_error"):
            interaction.data = {**interaction.data, "media_error": reason[:200]}
            interaction.save(update_fields=["data"])


# WeChat keeps a media file three days; the sweep leaves a fresh message to its own task for a while.
MEDIA_KEPT = dt.timedelta(days=3)
MEDIA_SWEEP_AFTER = dt.timedelta(minutes=10)


def wechat_media_missing(*, now: dt.datetime | None = None) -> list[int]:
    """Image messages still without their photo and not given up: their task was lost (a broker
    restarted empty, a worker killed) or ran out of retries while WeChat was unreachable (ADR 0012)."""
    now = now or timezone.now()
    return list(Interaction.objects
                .filter(channel=CHANNEL, direction=Interaction.Direction.INBOUND, data__has_key="media_id",
                        attachments__isnull=True, created_at__gte=now - MEDIA_KEPT,
                        created_at__lte=now - MEDIA_SWEEP_AFTER)
                .exclude(data__has_key="media_error")
                .order_by("created_at").values_list("pk", flat=True)[:200])
