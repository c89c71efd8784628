"""Data retention: the personal data of long-closed cases is removed; their statistics stay.

Rules:
- A case closed more than `GOVCRM_RETENTION_DAYS` days ago (default 1095, three years; env
  GOVCRM_RETENTION_DAYS; 0 turns the rule off) is anonymised once (`Case.anonymised_at`), so the
  run is idempotent and can repeat (`govcrm retention apply`, and the worker every day).
- Removed from the case: description, title, reply, street address, query code, the segmented
  search text and the link to the citizen; the map point is rounded to 0.01° (about 1 km).
  From its history (the legal exception to "events are never edited"): free-text reasons, and
  every event data key but the statistical ones in `EVENT_KEYS_KEPT` (a registration's channel
  payload can carry addresses). From its contacts: subjects, texts, payloads and attachments
  (the files are deleted); from calls: the caller's number; its notifications are deleted.
- Kept: number, type, urgency, category, area, channel, status and close reason, units,
  every timestamp and deadline, counters, satisfaction and rating, topics — what the
  warehouse and the dashboards count.
- A citizen is stripped (name, every identity) once no case links to them any more and their
  last contact is older than the period too; the row stays, so counts of citizens keep.
- Each run that changes something writes one audit record (counts and the cut-off).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from govcrm.audit.actions import audit_record
from govcrm.audit.models import AuditRecord
from govcrm.channels.models import Attachment, Interaction
from govcrm.citizens.models import Citizen, Identity

from .models import Case, CaseEvent
from .workflow import Status

BATCH = 200
EVENT_KEYS_KEPT = frozenset({
    "channel", "unit", "units", "co_units", "category", "from_category", "to_category", "urgency", "reason_code",
    "days", "level", "resolved", "satisfied", "rating", "merged_into", "close_reason",
})


@dataclass(frozen=True)
class RetentionResult:
    cutoff: dt.datetime | None
    cases: int
    citizens: int
    dry_run: bool


def retention_cutoff(now: dt.datetime | None = None) -> dt.datetime | None:
    days = int(getattr(settings, "GOVCRM_RETENTION_DAYS", 0))
    if days <= 0:
        return None
    return (now or timezone.now()) - dt.timedelta(days=days)


def cases_due(cutoff: dt.datetime):
    return Case.objects.filter(status=Status.CLOSED, closed_at__lt=cutoff, anonymised_at__isnull=True)


def citizens_due(cutoff: dt.datetime):
    """Citizens with personal data left, no case linking to them, and no contact since the cut-off."""
    linked = Case.objects.filter(citizen=OuterRef("pk"))
    recent = Interaction.objects.filter(citizen=OuterRef("pk"), created_at__gte=cutoff)
    has_data = Q(name__gt="") | Q(Exists(Identity.objects.filter(citizen=OuterRef("pk"))))
    return (Citizen.objects.filter(created_at__lt=cutoff).filter(has_data)
            .exclude(Exists(linked)).exclude(Exists(recent)))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _anonymise_case(case: Case, now: dt.datetime) -> None:
    case.description = ""
    case.title = ""
    case.reply = ""
    case.address = ""
    case.query_code = ""
    case.search_text = ""
    case.citizen = None
    case.lat, case.lon = _round(case.lat), _round(case.lon)
    case.anonymised_at = now
    case.save(update_fields=["description", "title", "reply", "address", "query_code", "search_text", "citizen",
                             "lat", "lon", "anonymised_at", "updated_at"])
    for event in CaseEvent.objects.filter(case=case).only("pk", "data", "reason"):
        data = {k: v for k, v in (event.data or {}).items() if k in EVENT_KEYS_KEPT}
        if data != event.data or event.reason:
            CaseEvent.objects.filter(pk=event.pk).update(data=data, reason="")  # the legal exception
    interactions = Interaction.objects.filter(case=case)
    for attachment in Attachment.objects.filter(interaction__case=case):
        name, storage = attachment.file.name, attachment.file.storage
        attachment.delete()
        transaction.on_commit(lambda name=name, storage=storage: storage.delete(name))  # not on rollback
    interactions.update(subject="", content="", data={}, citizen=None)
    from govcrm.channels.callcentre.models import Call
    from govcrm.notifications.models import Notification

    Call.objects.filter(case=case).update(caller="", citizen=None)
    Notification.objects.filter(case=case).delete()


def _strip_citizen(citizen: Citizen) -> None:
    Identity.objects.filter(citizen=citizen).delete()
    Citizen.objects.filter(pk=citizen.pk).update(name="", updated_at=timezone.now())


def retention_apply(*, dry_run: bool = False, now: dt.datetime | None = None) -> RetentionResult:
    """Anonymise what is due. A dry run does the same work in a transaction it then rolls back."""
    now = now or timezone.now()
    cutoff = retention_cutoff(now)
    if cutoff is None:
        return RetentionResult(None, 0, 0, dry_run)
    if dry_run:
        with transaction.atomic():
            cases, citizens = _apply(cutoff, now)
            transaction.set_rollback(True)  # nothing stays, and no file is deleted (on_commit)
        return RetentionResult(cutoff, cases, citizens, True)
    cases, citizens = _apply(cutoff, now)
    return RetentionResult(cutoff, cases, citizens, False)


def _apply(cutoff: dt.datetime, now: dt.datetime) -> tuple[int, int]:
    cases = 0
    while True:
        with transaction.atomic():
            batch = list(cases_due(cutoff).select_for_update().order_by("pk")[:BATCH])
            for case in batch:
                _anonymise_case(case, now)
        cases += len(batch)
        if len(batch) < BATCH:
            break
    citizens = 0
    with transaction.atomic():
        for citizen in citizens_due(cutoff).select_for_update().order_by("pk"):
            _strip_citizen(citizen)
            citizens += 1
        if cases or citizens:
            audit_record(action=AuditRecord.Action.RETENTION, object_type="cases.case", object_repr="retention",
                         detail={"cases": cases, "citizens": citizens, "cutoff": cutoff.isoformat(),
                                 "days": settings.GOVCRM_RETENTION_DAYS})
    return cases, citizens
