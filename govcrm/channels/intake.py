"""One intake for every channel: a contact becomes an interaction on the citizen's timeline and
either opens a case or joins one.

Rules:
- Idempotent on the channel's natural key (`external_id`): a retried delivery returns what
  the first one made and creates nothing.
- The citizen is matched by any identity given (phone, e-mail, openid, ID number).
- A contact joins a case when it names one (a case number, an e-mail thread) or, for chat-like
  channels (`thread_to_open_case`), when the citizen has an open case younger than
  GOVCRM_THREAD_DAYS; otherwise it opens a new case, in the category given or in
  "unclassified" for the dispatcher to classify.
- Everything is written in one transaction, before the channel acknowledges.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from govcrm.cases.actions import CaseInput, case_number_draw, case_register, case_transition
from govcrm.cases.models import Case
from govcrm.cases.workflow import Status
from govcrm.citizens.actions import CitizenInput, citizen_find_or_create
from govcrm.common import fastsql
from govcrm.organization.models import Role
from govcrm.organization.queries import Actor

from .models import Attachment, Interaction
from .uploads import CleanFile

UNCLASSIFIED = "other.general.unclassified"


def channel_actor(channel: str) -> Actor:
    """The actor recorded on events made by a channel adapter (no person behind it)."""
    return Actor(user_id=None, username=f"channel:{channel}", role=Role.AGENT, unit_id=None, unit_path="/")


@dataclass(frozen=True)
class IntakeMessage:
    channel: str
    text: str
    external_id: str = ""
    subject: str = ""
    citizen: CitizenInput | None = None
    case_number: str | None = None
    thread_to_open_case: bool = False
    create_case: bool = True
    category: str | None = None
    case_type: str = "help"
    urgency: str = "normal"
    address: str = ""
    area: str | None = None
    lat: float | None = None
    lon: float | None = None
    language: str = "zh-hans"
    attachments: tuple[CleanFile, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IntakeResult:
    interaction: Interaction
    case: Case | None
    created: bool  # False: a retry of a delivery already stored
    new_case: bool  # True: this contact opened a case (False: joined one, or no case)


# An inbound contact by its natural key (channel, external id): here and in receipts.py.
INBOUND_BY_KEY = (f"FROM channels_interaction WHERE channel = %s AND direction = '{Interaction.Direction.INBOUND}' "
                  "AND external_id = %s")


def _interaction_id(channel: str, external_id: str) -> int | None:
    # Most keys are new: a plain statement for the check (common/fastsql.py), the ORM for a retry.
    return fastsql.value(f"SELECT id {INBOUND_BY_KEY}", [channel, external_id])


def intake_key_used(channel: str, external_id: str) -> bool:
    """Whether an inbound contact with this natural key is stored already."""
    return _interaction_id(channel, external_id) is not None


def _existing(msg: IntakeMessage) -> Interaction | None:
    if not msg.external_id:
        return None
    found = _interaction_id(msg.channel, msg.external_id)
    return None if found is None else Interaction.objects.select_related("case").get(pk=found)


def _open_case_of(citizen_id: int) -> Case | None:
    since = timezone.now() - dt.timedelta(days=settings.GOVCRM_THREAD_DAYS)
    return (
        Case.objects.filter(citizen_id=citizen_id, created_at__gte=since)
        .exclude(status=Status.CLOSED)
        .order_by("-created_at")
        .first()
    )


def intake_receive(msg: IntakeMessage, *, checked: bool = False, number: str | None = None,
                   query_code: str | None = None, now: dt.datetime | None = None) -> IntakeResult:
    """Store one inbound contact (idempotently) and attach it to a new or existing case.

    `checked`: the caller has just looked its natural key up and found nothing (a race is still
    caught by the unique key below).
    `number`, `query_code`, `now`: what a receipt promised (channels/receipts.py): a new case gets
    that number and code, and its clocks start when the request was received.
    """
    found = None if checked else _existing(msg)
    if found:
        return IntakeResult(found, found.case, created=False, new_case=False)
    actor = channel_actor(msg.channel)
    # A contact that can only open a new case gets its number before the transaction, so the
    # day's counter row is not held while the rest is written (see cases.actions.case_number_draw).
    opens_case = msg.create_case and not msg.case_number and not msg.thread_to_open_case
    number = (number or case_number_draw()) if opens_case else None
    try:
        with transaction.atomic():
            citizen = citizen_find_or_create(data=msg.citizen) if msg.citizen else None
            case: Case | None = None
            if msg.case_number:
                case = Case.objects.filter(number=msg.case_number).first()
            if case is None and msg.thread_to_open_case and citizen:
                case = _open_case_of(citizen.pk)
            new_case = False
            if case is None and msg.create_case:
                case = case_register(actor=actor, data=CaseInput(
                    category=msg.category or UNCLASSIFIED, case_type=msg.case_type, description=msg.text,
                    urgency=msg.urgency, channel=msg.channel, title=msg.subject[:200], address=msg.address,
                    area=msg.area, lat=msg.lat, lon=msg.lon, language=msg.language,
                    data={"external_id": msg.external_id} if msg.external_id else {},
                ), number=number, citizen=citizen, query_code=query_code, now=now)
                citizen = citizen or case.citizen
                new_case = True
            interaction = fastsql.insert(Interaction(
                channel=msg.channel, direction=Interaction.Direction.INBOUND, external_id=msg.external_id,
                citizen=citizen, case=case, subject=msg.subject[:300], content=msg.text, data=msg.data,
            ))
            for f in msg.attachments:
                att = Attachment(interaction=interaction, name=f.name, content_type=f.content_type,
                                 size=len(f.data), sha256=f.sha256)
                att.file.save(f.name, ContentFile(f.data), save=False)
                att.save()
            if case is not None and not new_case:
                case_transition(actor=actor, case=case.number, action="note",
                                reason=msg.text[:500],
                                data={"interaction": interaction.pk, "channel": msg.channel})
    except IntegrityError:
        # The same delivery raced us and won: return its result, store nothing more.
        found = _existing(msg)
        if found is None:
            raise
        return IntakeResult(found, found.case, created=False, new_case=False)
    return IntakeResult(interaction, case, created=True, new_case=new_case)


def interaction_attach(*, interaction_id: int, file: CleanFile, only_if_none: bool = False) -> Attachment | None:
    """Keep a checked file on an interaction (e.g. a photo fetched after the message was stored).

    With `only_if_none`, an interaction that has a file already is left alone (safe to run twice).
    """
    with transaction.atomic():
        locked = Interaction.objects.select_for_update().get(pk=interaction_id)
        if only_if_none and locked.attachments.exists():
            return None
        attachment = Attachment(interaction=locked, name=file.name, content_type=file.content_type,
                                size=len(file.data), sha256=file.sha256)
        attachment.file.save(file.name, ContentFile(file.data), save=False)
        attachment.save()
    return attachment


def interaction_link_case(*, channel: str, external_id: str, case: Case) -> int:
    """Move a channel's inbound contact (e.g. a phone call) onto the case it led to."""
    return Interaction.objects.filter(channel=channel, direction=Interaction.Direction.INBOUND,
                                      external_id=external_id).update(case=case)


def interaction_record_outbound(*, channel: str, citizen_id: int | None, case_id: int | None, content: str,
                                subject: str = "", external_id: str = "", data: dict | None = None) -> Interaction:
    """Log something sent to the citizen (a notification, an acknowledgement) on their timeline."""
    interaction, _created = Interaction.objects.get_or_create(
        channel=channel, direction=Interaction.Direction.OUTBOUND, external_id=external_id,
        defaults={"citizen_id": citizen_id, "case_id": case_id, "content": content, "subject": subject[:300],
                  "data": data or {}},
    ) if external_id else (Interaction.objects.create(
        channel=channel, direction=Interaction.Direction.OUTBOUND, citizen_id=citizen_id, case_id=case_id,
        content=content, subject=subject[:300], data=data or {}), True)
    return interaction
