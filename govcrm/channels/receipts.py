"""Intakes acknowledged before they are registered, for peak hours (ADR 0023).

With GOVCRM_INTAKE_RECEIPTS=on, the portal, Open311 (services of type `batch`) and the REST API
(when the caller sends `Prefer: respond-async`) answer a new request as soon as it is kept:

Rules:
- A request is checked exactly as a direct registration checks it (`case_input_check`): bad
  input is refused in the caller's format and nothing is stored.
- It is kept as one `Receipt` row — its content encrypted — with the case number and query code
  it will have, in one transaction with the registrar's job, and only then answered. An
  acknowledged request is therefore never lost: the receipt is committed before the answer.
- Its natural key (the channel's id, the REST Idempotency-Key) is unique among receipts, and a
  key already registered directly is found too: a retried request is never doubled.
- Only a contact that opens a new case and brings no files takes a receipt; anything else
  (a reply to a case, a photo) is registered directly, as without receipts.
- `receipts_register` registers pending receipts in batches (rows locked with SKIP LOCKED, so
  several workers share them) through the same intake as a direct registration, each in a
  savepoint: the case gets the receipt's number, query code and received time (its clocks start
  then). A category withdrawn meanwhile does not lose the request: it is registered unclassified
  for the dispatcher. A receipt that fails for another reason stays pending and is tried again by
  the next batch (the periodic job, every 15 s, is the sweep); after MAX_ATTEMPTS it is marked
  failed and logged as an error for the operator.
- One registrar job per receipt, except on the database task backend while one is still waiting:
  a job registers batches until none is pending.
- On PostgreSQL a new request is kept in one statement (`_keep_at_once`): the day's number drawn,
  the receipt inserted unless its key is taken or was registered directly, and the waiting job
  looked for — no lookups first, one commit. Anything else (a retry, refused input) then takes
  the careful path, which answers it as before. A retry leaves a gap in the day's numbers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govcrm.cases.actions import (
    IDEMPOTENCY_RECORD,
    CaseInput,
    case_input_check,
    case_number_draw,
    case_register,
    query_code_new,
)
from govcrm.cases.models import Case, IdempotencyRecord
from govcrm.citizens import crypto
from govcrm.citizens.actions import CitizenInput
from govcrm.common import fastsql
from govcrm.common.errors import DomainError, NotAllowed, ValidationFailed
from govcrm.common.jobs import enqueue_on_commit, in_transaction_enqueue
from govcrm.organization.queries import Actor

from .intake import INBOUND_BY_KEY, UNCLASSIFIED, IntakeMessage, _interaction_id, intake_receive
from .models import Interaction, Receipt

logger = logging.getLogger(__name__)

BATCH = 50  # receipts registered in one transaction
MAX_ATTEMPTS = 5


def receipts_enabled() -> bool:
    return settings.GOVCRM_INTAKE_RECEIPTS


@dataclass(frozen=True)
class Acknowledged:
    """What the caller answers: the number and query code the case has or will have."""

    number: str
    query_code: str
    token: str
    created: bool  # False: a retry of a request kept (or registered) already
    registered: bool
    receipt: Receipt | None = dataclasses.field(default=None, compare=False, repr=False)  # the row, when kept


def takes_receipt(msg: IntakeMessage) -> bool:
    """Whether this contact may be acknowledged before registration (a new case, no files)."""
    return (receipts_enabled() and msg.create_case and not msg.case_number and not msg.thread_to_open_case
            and not msg.attachments)


# --- keeping a receipt ------------------------------------------------------------------------------


def _seal(payload: dict) -> str:
    return crypto.encrypt(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))


def _unseal(receipt: Receipt) -> dict:
    return json.loads(crypto.decrypt(receipt.payload))


def _acknowledged(receipt: Receipt, *, created: bool) -> Acknowledged:
    return Acknowledged(number=receipt.number, query_code=receipt.query_code, token=receipt.token,
                        created=created, registered=receipt.state == Receipt.State.REGISTERED, receipt=receipt)


def _by_key(kind: str, key: str) -> Receipt | None:
    return fastsql.fetch_one(Receipt, "WHERE kind = %s AND natural_key = %s", [kind, key])


REGISTRAR = "govcrm.channels.tasks.register_receipts"
# A job of a request's priority (>= 0): the sweep, queued at −10, waits behind every other job.
_WAITING = ("SELECT 1 FROM django_tasks_database_dbtaskresult "
            "WHERE status = 'READY' AND task_path = %s AND priority >= 0 LIMIT 1")


def _registrar_waiting() -> bool:
    """On the database task backend: a registrar job is queued and not started, so it will find
    this receipt. At 200 receipts a second a job each would cost the worker more than the work;
    the rare receipt committed just as that job starts waits for the next one, or the sweep."""
    return in_transaction_enqueue() and fastsql.value(_WAITING, [REGISTRAR]) is not None


def registrar_queue(*, waiting: bool | None = None) -> None:
    """Queue the registrar (after the caller's commit), unless one is waiting already (`waiting`:
    the caller has just looked)."""
    from .tasks import register_receipts

    if not (_registrar_waiting() if waiting is None else waiting):
        enqueue_on_commit(register_receipts.enqueue, "the registration of intake receipts")


def _keep(receipt: Receipt) -> Receipt | None:
    """Insert the receipt and its registrar job in one commit; None if its key raced in first."""
    try:
        with transaction.atomic():
            # Drawn in the receipt's own transaction: a receipt costs one commit, not two; the day's
            # counter row stays locked until that commit (three short statements, then the WAL
            # flush — as long as a separate draw's own commit would hold it).
            receipt.number = case_number_draw()
            fastsql.insert(receipt)
            registrar_queue()
    except IntegrityError:
        if receipt.natural_key and _by_key(receipt.kind, receipt.natural_key) is not None:
            return None
        raise
    return receipt


# A contact with this natural key registered directly (before receipts were switched on): found
# by the careful path, which answers with its case.
_REGISTERED_GUARD = {Receipt.Kind.INTAKE: f"SELECT 1 {INBOUND_BY_KEY}",
                     Receipt.Kind.API: f"SELECT 1 {IDEMPOTENCY_RECORD}"}


def _cast_type(field) -> str:
    db_type = field.cast_db_type(connection)
    return "text" if db_type.startswith("varchar") else db_type


@cache
def _keep_plan(kind: str, keyed: bool, waiting: bool) -> tuple[list, str]:
    """The statement of `_keep_at_once` (PostgreSQL): a data-modifying CTE draws the number as
    `case_number_draw` does; the receipt's columns are cast, as INSERT … SELECT needs."""
    meta = Receipt._meta
    qn = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if f is not meta.auto_field and f.attname != "number"]
    columns = ", ".join(qn(f.column) for f in fields)
    # Cast to text, not varchar(n): an explicit cast would cut a long value instead of refusing it.
    values = ", ".join(f"CAST(%s AS {_cast_type(f)})" for f in fields)
    guard = f" WHERE NOT EXISTS ({_REGISTERED_GUARD[kind]})" if keyed else ""
    returning = f", EXISTS ({_WAITING.removesuffix(' LIMIT 1')})" if waiting else ""
    sql = ("WITH drawn AS (INSERT INTO cases_casenumbersequence (day, last) VALUES (%s, 1) "  # noqa: S608 - our names
           "ON CONFLICT (day) DO UPDATE SET last = cases_casenumbersequence.last + 1 RETURNING last) "
           f"INSERT INTO {qn(meta.db_table)} ({columns}, number) "
           f"SELECT {values}, %s || lpad(last::text, greatest(6, length(last::text)), '0') FROM drawn{guard} "
           f"ON CONFLICT DO NOTHING RETURNING id, number{returning}")
    return fields, sql


def _keep_at_once(receipt: Receipt, guard_params: list) -> Receipt | None:
    """PostgreSQL: keep a new receipt in one statement (see the rules above); None if its key is
    taken by a receipt or a direct registration, and nothing is stored then."""
    keyed, waiting = bool(receipt.natural_key), in_transaction_enqueue()
    fields, sql = _keep_plan(receipt.kind, keyed, waiting)
    day = timezone.localtime(receipt.received_at).strftime("%Y%m%d")
    values = [f.get_db_prep_save(f.pre_save(receipt, True), connection) for f in fields]
    found = fastsql.row(sql, [day, *values, day, *(guard_params if keyed else []), *([REGISTRAR] if waiting else [])])
    if found is None:
        return None
    receipt.pk, receipt.number = found[0], found[1]
    receipt._state.adding, receipt._state.db = False, connection.alias
    registrar_queue(waiting=waiting and found[2])
    return receipt


def _kept_at_once(check, make, guard_params: list) -> Receipt | None:
    """A new request on PostgreSQL: checked, then kept by `_keep_at_once`. None when it is not
    simply new (a retry, or input the checks refuse): the caller's careful path answers it."""
    if connection.vendor != "postgresql":
        return None
    try:
        check()
    except ValidationFailed:
        return None
    return _keep_at_once(make(), guard_params)


def _new_receipt(*, kind: str, channel: str, key: str, payload: dict, digest: str = "", token: str = "") -> Receipt:
    return Receipt(kind=kind, channel=channel, natural_key=key, query_code=query_code_new(),
                   token=token or uuid.uuid4().hex, payload=_seal(payload), digest=digest, received_at=timezone.now())


def _case_input(msg: IntakeMessage) -> CaseInput:
    return CaseInput(category=msg.category or UNCLASSIFIED, case_type=msg.case_type, description=msg.text,
                     urgency=msg.urgency, channel=msg.channel, title=msg.subject[:200], address=msg.address,
                     area=msg.area, lat=msg.lat, lon=msg.lon, language=msg.language)


def receipt_take(msg: IntakeMessage, *, token: str = "", checked: bool = False) -> Acknowledged:
    """Check a channel's new contact and keep it as a receipt (see `takes_receipt`); `token`: the
    one the channel answers with (Open311), else a new one; `checked`: the caller has just found
    no contact stored directly under its natural key. A retry is answered as the first time, even
    if its category was withdrawn meanwhile: the key is looked up before the checks."""
    key = f"{msg.channel}:{msg.external_id}" if msg.external_id else ""

    def make() -> Receipt:
        return _new_receipt(kind=Receipt.Kind.INTAKE, channel=msg.channel, key=key, token=token,
                            payload=dataclasses.asdict(dataclasses.replace(msg, attachments=())))

    kept = _kept_at_once(lambda: case_input_check(_case_input(msg)), make, [msg.channel, msg.external_id])
    if kept is not None:
        return _acknowledged(kept, created=True)
    if key:
        found = _by_key(Receipt.Kind.INTAKE, key)
        if found is not None:
            return _acknowledged(found, created=False)
        interaction_id = None if checked else _interaction_id(msg.channel, msg.external_id)
        if interaction_id is not None:  # registered directly before receipts were switched on
            case = Interaction.objects.select_related("case").get(pk=interaction_id).case
            if case is not None:
                return Acknowledged(case.number, case.query_code, "", created=False, registered=True)
    case_input_check(_case_input(msg))
    receipt = _keep(make())
    if receipt is None:
        return _acknowledged(_by_key(Receipt.Kind.INTAKE, key), created=False)
    return _acknowledged(receipt, created=True)


def receipt_take_api(*, actor: Actor, data: CaseInput, key: str | None, scope: str, body: bytes) -> Acknowledged:
    """Check a REST registration and keep it as a receipt; the Idempotency-Key works as for a
    direct registration (the same key with another body is refused)."""
    digest = hashlib.sha256(body).hexdigest()
    if key and len(key) > 200:
        message = _("The Idempotency-Key is longer than 200 characters.")
        raise ValidationFailed(message, details={"Idempotency-Key": message})
    full_key = f"{scope}:{key}" if key else ""

    def make() -> Receipt:
        payload = {"actor": dataclasses.asdict(actor), "case": dataclasses.asdict(data), "key": key or "",
                   "scope": scope}
        return _new_receipt(kind=Receipt.Kind.API, channel=data.channel, key=full_key, payload=payload,
                            digest=digest)

    kept = _kept_at_once(lambda: case_input_check(data), make, [scope, key])
    if kept is not None:
        return _acknowledged(kept, created=True)
    if key:
        found = _by_key(Receipt.Kind.API, full_key) or None
        record = None if found is not None else fastsql.row(f"SELECT request_hash, case_id {IDEMPOTENCY_RECORD}",
                                                             [scope, key])
        if found is not None or record is not None:
            if (found.digest if found is not None else record[0]) != digest:
                raise NotAllowed(_("This Idempotency-Key was already used for a different request."),
                                 code="idempotency_conflict")
            if found is not None:
                return _acknowledged(found, created=False)
            case = Case.objects.get(pk=record[1])
            return Acknowledged(case.number, case.query_code, "", created=False, registered=True)
    case_input_check(data)
    receipt = _keep(make())
    if receipt is None:
        return receipt_take_api(actor=actor, data=data, key=key, scope=scope, body=body)
    return _acknowledged(receipt, created=True)


# --- reading ----------------------------------------------------------------------------------------


def receipt_unregistered(number: str) -> Receipt | None:
    """A receipt whose case does not exist yet: pending, or failed and waiting for the operator."""
    return Receipt.objects.filter(number=(number or "").strip()[:20], case__isnull=True).first() if number else None


def receipt_get(number: str) -> Receipt | None:
    return Receipt.objects.filter(number=number).first() if number else None


def receipt_for_api_key(scope: str, key: str) -> Receipt | None:
    """The REST receipt kept under this Idempotency-Key, if any (a direct retry must find it)."""
    return _by_key(Receipt.Kind.API, f"{scope}:{key}") if key else None


def receipt_by_token(token: str) -> Receipt | None:
    return Receipt.objects.filter(token=token).first() if token else None


# --- registering ------------------------------------------------------------------------------------


def _message(payload: dict) -> IntakeMessage:
    citizen = payload.pop("citizen", None)
    payload["attachments"] = ()
    return IntakeMessage(**payload, citizen=CitizenInput(**citizen) if citizen else None)


def _register_intake(receipt: Receipt, payload: dict) -> Case:
    msg = _message(payload)
    try:
        with transaction.atomic():
            result = intake_receive(msg, number=receipt.number, query_code=receipt.query_code,
                                    now=receipt.received_at)
    except ValidationFailed:  # e.g. its category was withdrawn after the answer: the dispatcher classifies it
        result = intake_receive(dataclasses.replace(msg, category=UNCLASSIFIED, area=None), number=receipt.number,
                                query_code=receipt.query_code, now=receipt.received_at)
    if result.case is None or result.case.number != receipt.number:
        # Its natural key was stored directly meanwhile (e.g. receipts switched on during a rolling
        # deploy): the number given to the citizen would never exist. Staff decide (failed).
        raise ReceiptConflict(f"natural key registered directly as {result.case.number if result.case else 'no case'}")
    return result.case


def _register_api(receipt: Receipt, payload: dict) -> Case:
    actor = Actor(**payload["actor"])
    raw = payload["case"]
    citizen = raw.pop("citizen", None)
    data = CaseInput(**raw, citizen=CitizenInput(**citizen) if citizen else None)
    try:
        with transaction.atomic():
            case = case_register(actor=actor, data=data, number=receipt.number, query_code=receipt.query_code,
                                 now=receipt.received_at)
    except ValidationFailed:
        case = case_register(actor=actor, data=dataclasses.replace(data, category=UNCLASSIFIED, area=None),
                             number=receipt.number, query_code=receipt.query_code, now=receipt.received_at)
    if payload["key"]:
        if fastsql.value(f"SELECT 1 {IDEMPOTENCY_RECORD}", [payload["scope"], payload["key"]]) is not None:
            raise ReceiptConflict("Idempotency-Key registered directly meanwhile")  # rolled back: no second case
        fastsql.insert(IdempotencyRecord(key=payload["key"], scope=payload["scope"], request_hash=receipt.digest,
                                         case=case))
    return case


def _register(receipt: Receipt) -> Case:
    existing = Case.objects.filter(number=receipt.number).first()
    if existing is not None:  # registered by an earlier batch whose mark was lost: never twice
        return existing
    payload = _unseal(receipt)
    return (_register_api if receipt.kind == Receipt.Kind.API else _register_intake)(receipt, payload)


class ReceiptConflict(Exception):
    """The receipt's request was registered another way meanwhile; staff must look at it."""


def _reason(err: Exception) -> str:
    """What is kept of a failure: no database error text, which may quote a row's values."""
    if isinstance(err, (DomainError, ReceiptConflict)):
        return f"{type(err).__name__}: {err}"[:500]
    return type(err).__name__


def receipts_register(limit: int = BATCH) -> tuple[int, int]:
    """Register up to `limit` pending receipts in one transaction; returns (registered, taken).

    A database error that is not the receipt's fault (connection lost, deadlock, lock timeout:
    OperationalError) does not count as an attempt; the receipt is tried again by the next batch.
    """
    done = 0
    with transaction.atomic():
        batch = list(Receipt.objects.select_for_update(skip_locked=True)
                     .filter(state=Receipt.State.PENDING).order_by("attempts", "id")[:limit])
        for receipt in batch:
            try:
                with transaction.atomic():
                    case = _register(receipt)
            except OperationalError as err:
                logger.warning("intake receipt %s not registered yet: %s", receipt.number, type(err).__name__)
                continue
            except Exception as err:  # kept pending (or failed) with the reason, never lost
                receipt.attempts += 1
                receipt.error = _reason(err)
                if receipt.attempts >= MAX_ATTEMPTS:
                    receipt.state = Receipt.State.FAILED
                    logger.error("intake receipt %s could not be registered: %s", receipt.number, receipt.error)
                else:
                    logger.warning("intake receipt %s not registered yet: %s", receipt.number, receipt.error)
                receipt.save(update_fields=["attempts", "error", "state"])
                continue
            receipt.state = Receipt.State.REGISTERED
            receipt.case = case
            receipt.registered_at = timezone.now()
            receipt.error = ""
            receipt.save(update_fields=["state", "case", "registered_at", "error"])
            done += 1
    return done, len(batch)


def receipts_status(limit: int = 100) -> tuple[dict[str, int], list[Receipt]]:
    """Receipts counted by state, and the oldest failed ones (for `govcrm receipts`)."""
    from django.db.models import Count

    counts = dict(Receipt.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    return counts, list(Receipt.objects.filter(state=Receipt.State.FAILED).order_by("id")[:limit])


def receipts_retry_failed() -> int:
    """Failed receipts back to pending (their cause fixed), with a registrar job to take them."""
    with transaction.atomic():
        n = Receipt.objects.filter(state=Receipt.State.FAILED).update(state=Receipt.State.PENDING, attempts=0)
        if n:
            registrar_queue()
    return n
