"""Writing notifications into the outbox and sending them.

Rules:
- `notification_for_event` runs inside the case's transaction: the case change and its
  notification commit together; the send is enqueued on commit.
- The citizen is told on registration (for channels that do not acknowledge by themselves),
  acceptance, the reply (once the centre has approved it: a reply sent back for redo never
  reaches the citizen) and closure, through their preferred channel if they have an identity for
  it, else the channel they came through, else any identity they have. No identity: no message.
- Sending first claims the row in a short transaction (one more attempt, and a lease: the row
  is not due again for GOVCRM_NOTIFY_LEASE_SECONDS, 10 minutes by default), then calls the
  provider with no transaction open — a slow provider holds no database lock — and then marks
  it sent. Two workers cannot claim the same row; a worker that dies after claiming leaves the
  row to be retried when the lease ends, and the provider gets `dedupe_key` as the message id
  to recognise such a repeat.
- Failures retry with exponential back-off (1, 2, 4 … minutes, at most 8 attempts).
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from types import SimpleNamespace

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from govcrm.common import fastsql
from govcrm.common.jobs import enqueue_on_commit

from .backends import Undeliverable
from .models import Notification

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Channels that acknowledge a new case themselves (screen, API answer, mail reply, passive reply).
SELF_ACKNOWLEDGING = frozenset({"portal", "open311", "email", "wechat"})
KIND_BY_MOVE = {
    "register": Notification.Kind.REGISTERED,
    "accept": Notification.Kind.ACCEPTED,
    "review": Notification.Kind.REPLIED,
    "resolve_first_contact": Notification.Kind.REPLIED,
    # The lead case's reply, given to the reporter of a case merged into it (cases.actions).
    "incident_reply": Notification.Kind.REPLIED,
    "follow_up": Notification.Kind.CLOSED,
    "withdraw": Notification.Kind.CLOSED,
}
IDENTITY_FOR_CHANNEL = {"email": "email", "sms": "phone", "wechat": "wechat"}


def _pick_channel(case) -> str | None:
    citizen = case.citizen
    kinds = set(citizen.identities.values_list("kind", flat=True))
    candidates = [citizen.preferred_channel, case.channel, "wechat", "sms", "email"]
    for channel in candidates:
        if channel == "phone":
            channel = "sms"
        identity = IDENTITY_FOR_CHANNEL.get(channel)
        if identity and identity in kinds and not (channel == "sms" and citizen.sms_opt_out):
            return channel
    return None


def notification_for_event(*, case, event) -> Notification | None:
    """Queue the citizen's notification for this case event, if it calls for one."""
    kind = KIND_BY_MOVE.get(event.action)
    if kind is None or case.citizen_id is None or not case.citizen.consent_contact:
        return None
    if kind == Notification.Kind.REGISTERED and case.channel in SELF_ACKNOWLEDGING:
        return None
    channel = _pick_channel(case)
    if channel is None:
        return None
    language = case.citizen.language or case.language
    with translation.override(language):
        context = {"case": case, "event": event, "kind": kind}
        subject = render_to_string("notifications/subject.txt", context).strip()
        body = render_to_string("notifications/body.txt", context).strip()
    note = fastsql.insert(Notification(  # on every intake: a plain statement (common/fastsql.py)
        case=case, citizen=case.citizen, channel=channel, kind=kind, language=language, subject=subject,
        body=body, dedupe_key=f"{case.number}:{event.seq}:{channel}", next_attempt_at=timezone.now(),
    ))
    enqueue_on_commit(partial(_enqueue, note.pk), f"notification {note.pk}")
    return note


def notification_for_application(*, application, event, subject: str, body: str) -> Notification | None:
    """Queue a message about an application (govcrm/services) to its citizen, in the outbox like
    a case's: same channel choice (preferred, then any identity; the portal itself sends nothing)."""
    citizen = application.citizen
    if not citizen.consent_contact:
        return None
    channel = _pick_channel(SimpleNamespace(citizen=citizen, channel="portal"))
    if channel is None:
        return None
    note = Notification.objects.create(
        application=application, citizen=citizen, channel=channel, kind=Notification.Kind.DECIDED,
        language=citizen.language or application.language, subject=subject[:300], body=body,
        dedupe_key=f"{application.number}:{event.seq}:{channel}", next_attempt_at=timezone.now(),
    )
    enqueue_on_commit(partial(_enqueue, note.pk), f"notification {note.pk}")
    return note


def notification_reminder(*, citizen, key: str, subject: str, body: str, application=None) -> Notification | None:
    """Queue a reminder (govcrm/personal: a renewal that falls due, an entitlement by age) once per `key`.

    Same channel choice as for an application; nothing without consent to be contacted or without
    an identity to send to; a key already used queues nothing (the reminder was sent or is pending)."""
    if not citizen.consent_contact:
        return None
    channel = _pick_channel(SimpleNamespace(citizen=citizen, channel="portal"))
    dedupe_key = f"reminder:{key}"[:100]
    if channel is None or Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    note = Notification.objects.create(
        application=application, citizen=citizen, channel=channel, kind=Notification.Kind.REMINDER,
        language=citizen.language, subject=subject[:300], body=body, dedupe_key=dedupe_key,
        next_attempt_at=timezone.now(),
    )
    enqueue_on_commit(partial(_enqueue, note.pk), f"notification {note.pk}")
    return note


def _enqueue(notification_id: int) -> None:
    from .tasks import send_notification

    send_notification.enqueue(notification_id)


def recipient_for(note: Notification) -> str:
    kind = IDENTITY_FOR_CHANNEL[note.channel]
    identity = note.citizen.identities.filter(kind=kind).first()
    if identity is None:
        raise LookupError(f"citizen has no {kind}")
    return identity.value


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.GOVCRM_NOTIFY_LEASE_SECONDS)


def _claim(notification_id: int, now: dt.datetime) -> Notification | None:
    with transaction.atomic():
        # of=("self",): the case is a nullable (outer) join, which PostgreSQL cannot lock
        note = (Notification.objects.select_for_update(of=("self",)).select_related("case", "citizen")
                .filter(pk=notification_id).first())
        if note is None or note.status != Notification.Status.PENDING or note.next_attempt_at > now:
            return note
        note.attempts += 1
        note.next_attempt_at = now + _lease()
        note.save(update_fields=["attempts", "next_attempt_at"])
        note.claimed = True
    return note


def notification_send(*, notification_id: int, now: dt.datetime | None = None) -> str:
    """Send one notification if it is due and not sent yet. Returns its status afterwards."""
    now = now or timezone.now()
    note = _claim(notification_id, now)
    if note is None or not getattr(note, "claimed", False):
        return note.status if note else "missing"
    backend = import_string(settings.GOVCRM_NOTIFY_BACKENDS[note.channel])()
    changes: dict = {}
    try:
        provider_id = backend.send(note=note, to=recipient_for(note)) or ""
    except Undeliverable as exc:
        changes = {"status": Notification.Status.SKIPPED, "last_error": f"{type(exc).__name__}: {exc}"[:2000]}
    except Exception as exc:  # any provider failure: retry later, keep the reason
        changes = {"last_error": f"{type(exc).__name__}: {exc}"[:2000]}
        if note.attempts >= MAX_ATTEMPTS:
            changes["status"] = Notification.Status.FAILED
        else:
            changes["next_attempt_at"] = now + dt.timedelta(minutes=2 ** (note.attempts - 1))
    else:
        changes = {"status": Notification.Status.SENT, "sent_at": now, "provider_id": provider_id}
    with transaction.atomic():
        Notification.objects.filter(pk=note.pk, status=Notification.Status.PENDING).update(**changes)
        if changes.get("status") == Notification.Status.SENT:
            from govcrm.channels.intake import interaction_record_outbound

            interaction_record_outbound(channel=note.channel, citizen_id=note.citizen_id, case_id=note.case_id,
                                        content=note.body, subject=note.subject, external_id=note.dedupe_key)
    return changes.get("status", Notification.Status.PENDING)


def notification_sweep(*, now: dt.datetime | None = None) -> int:
    """Send every due pending notification (the safety net when an enqueue was lost)."""
    now = now or timezone.now()
    ids = list(Notification.objects.filter(status=Notification.Status.PENDING, next_attempt_at__lte=now)
               .values_list("id", flat=True)[:500])
    return sum(1 for i in ids if notification_send(notification_id=i, now=now) == Notification.Status.SENT)
