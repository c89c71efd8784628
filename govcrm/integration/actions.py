"""Writes of department integration: subscribers, the webhook outbox, delivery and retries.

Rules:
- `webhooks_for_case_event` runs inside the case's transaction (cases.actions calls it after
  appending each event). With no active subscriber it returns after one dictionary read (the
  subscriber list is in the reference cache, ADR 0010); otherwise it writes the deliveries of the
  matching subscribers in **one** INSERT statement, or nothing when none matches. The delivery
  task is enqueued on commit; a lost enqueue is left to the sweep.
- Application events (govcrm.services) arrive by the services app's after-commit signal; the
  sweep also writes any a crash made it miss (the last two days). Ids are derived from the event
  row, so writing one twice is a no-op (unique subscriber × event id).
- Delivering first claims the row in a short transaction (one attempt more, and a lease so that
  nobody else sends it meanwhile), then POSTs with no transaction open, then records the outcome
  and the attempt in the log. 2xx: delivered, never sent again. Anything else (a status, a
  timeout, a refused connection): retried after an exponential back-off with jitter, `dead` after
  GOVCRM_WEBHOOK_MAX_ATTEMPTS. Redirects are not followed (a failure).
- Order: for one subscriber and one subject (case or application), a delivery is not attempted
  while an earlier one is pending; a dead one no longer holds the later ones back.
- A dead delivery is retried only by a person (console or admin): it gets a full round of attempts
  again; the log keeps counting.
- A department system's account (`department_token_create`) is a staff account of the unit in a unit
  role (handler by default), with no password: it signs in only with its unit-scoped API token, and
  every move it makes is in the case history under its own name.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import secrets
import threading
import time
import uuid
from dataclasses import dataclass

import httpx
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govcrm.audit.actions import audit_record
from govcrm.audit.models import AuditRecord
from govcrm.citizens.crypto import decrypt, encrypt
from govcrm.common.errors import NotAllowed, NotFound, ValidationFailed
from govcrm.common.reference import cached

from . import cloudevents, conf, signing
from .models import Delivery, DeliveryAttempt, Subscriber

logger = logging.getLogger(__name__)

USER_AGENT = "GovCRM-Webhooks/1.0"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a public marker, not a secret


# --- the subscriber list and reference codes, from the per-process reference cache -----------------


@dataclass(frozen=True)
class SubscriberRef:
    id: int
    types: tuple[str, ...]
    unit_path: str | None
    category_id: int | None
    created_at: dt.datetime

    def wants_type(self, event_type: str) -> bool:
        if not self.types:
            return True
        return any(event_type == t or (t.endswith("*") and event_type.startswith(t[:-1])) for t in self.types)

    def matches(self, event_type: str, unit_paths: tuple[str, ...], category_ids: tuple[int, ...] | None) -> bool:
        if not self.wants_type(event_type):
            return False
        if self.unit_path is not None and not any(p.startswith(self.unit_path) for p in unit_paths):
            return False
        return self.category_id is None or (category_ids is not None and self.category_id in category_ids)


def active_subscribers() -> tuple[SubscriberRef, ...]:
    def load():
        return tuple(
            SubscriberRef(s.pk, tuple(s.event_types or ()), s.unit.path if s.unit else None, s.category_id,
                          s.created_at)
            for s in Subscriber.objects.filter(active=True).select_related("unit")
        )

    return cached("webhook_subscribers", load)


def reference_codes() -> cloudevents.Refs:
    def load():
        from govcrm.cases.models import Category
        from govcrm.organization.models import Area, Unit

        units = {pk: (code, path) for pk, code, path in Unit.objects.values_list("id", "code", "path")}
        parents = dict(Category.objects.values_list("id", "parent_id"))
        codes = dict(Category.objects.values_list("id", "code"))

        def chain(pk):
            ids = []
            while pk is not None and pk not in ids:
                ids.append(pk)
                pk = parents.get(pk)
            return tuple(ids)

        return cloudevents.Refs(
            units=units,
            unit_paths={code: path for code, path in units.values()},
            areas=dict(Area.objects.values_list("id", "code")),
            categories={pk: (code, chain(pk)) for pk, code in codes.items()},
        )

    return cached("webhook_reference_codes", load)


# --- writing the outbox -----------------------------------------------------------------------------


def _write(matched: list[SubscriberRef], envelope: dict, now: dt.datetime) -> list[int]:
    rows = [
        Delivery(subscriber_id=s.id, event_id=envelope["id"], event_type=envelope["type"],
                 subject=envelope["subject"], payload=envelope, next_attempt_at=now, created_at=now)
        for s in matched
    ]
    created = Delivery.objects.bulk_create(rows)  # one INSERT statement
    ids = [d.pk for d in created if d.pk is not None]
    if ids:
        _enqueue_on_commit(ids)
    return ids


class _Batch:
    """The deliveries written by one transaction: one task for all of them, enqueued on its commit."""

    def __init__(self):
        self.ids: list[int] = []

    def flush(self) -> None:
        if self.ids:
            _enqueue(self.ids)


_batches = threading.local()


def _enqueue_on_commit(ids: list[int]) -> None:
    """Join the batch of the open transaction, or start one (a registration and its dispatch by rule
    are two events in one transaction: one enqueue, not two). A batch whose callback is no longer
    waiting (committed, or dropped by a rollback) is never reused."""
    connection = transaction.get_connection()
    batch = getattr(_batches, "current", None)
    if batch is not None and any(entry[1] == batch.flush for entry in connection.run_on_commit):
        batch.ids.extend(ids)
        return
    batch = _batches.current = _Batch()
    batch.ids.extend(ids)  # before on_commit: outside a transaction it runs at once
    transaction.on_commit(batch.flush)


def _enqueue(ids: list[int]) -> None:
    from .tasks import deliver_webhooks

    try:
        deliver_webhooks.enqueue(ids)
    except Exception:  # the sweep delivers it; the row is safe in the outbox
        logger.exception("could not enqueue webhook deliveries %s", ids)


def webhooks_for_case_event(*, case, event) -> int:
    """Queue this case event for every subscriber it matches, in the caller's transaction."""
    subscribers = active_subscribers()
    if not subscribers:
        return 0
    event_type = cloudevents.case_type(event.action)
    refs = reference_codes()
    paths = [refs.units[case.lead_unit_id][1]] if case.lead_unit_id in refs.units else []
    # A transfer or return also concerns the unit the case leaves; a dispatch, its co-handlers 协办.
    co_units = event.data.get("co_units")
    named = [event.data.get("unit"), event.data.get("from_unit"), *(co_units if isinstance(co_units, list) else [])]
    for code in named:
        if isinstance(code, str) and code in refs.unit_paths:
            paths.append(refs.unit_paths[code])
    category = refs.categories.get(case.category_id)
    matched = [s for s in subscribers if s.matches(event_type, tuple(paths), category[1] if category else None)]
    if not matched:
        return 0
    return len(_write(matched, cloudevents.case_envelope(case, event, refs), timezone.now()))


def webhooks_for_application_event(*, event, now: dt.datetime | None = None, catching_up: bool = False) -> int:
    """Queue an application event (services app) for the subscribers it matches; safe to call twice."""
    subscribers = active_subscribers()
    if not subscribers:
        return 0
    application = event.application
    event_type = cloudevents.application_type(event.kind)
    refs = reference_codes()
    paths = tuple(refs.units[pk][1] for pk in {application.unit_id, event.unit_id} if pk in refs.units)
    # No category on applications. Catching up, a subscriber made after the event does not get it
    # (as for case events, which only go to the subscribers of their moment).
    matched = [s for s in subscribers if (not catching_up or s.created_at <= event.at)
               and s.matches(event_type, paths, None)]
    if not matched:
        return 0
    envelope = cloudevents.application_envelope(application, event, refs, application.service.code)
    written = set(Delivery.objects.filter(event_id=envelope["id"], subscriber_id__in=[s.id for s in matched])
                  .values_list("subscriber_id", flat=True))
    matched = [s for s in matched if s.id not in written]
    if not matched:
        return 0
    try:
        with transaction.atomic():
            return len(_write(matched, envelope, now or timezone.now()))
    except IntegrityError:  # the receiver and the sweep met: the other one wrote it
        return 0


def on_application_event(sender, event, **kwargs) -> None:
    """Receiver of govcrm.services.events.application_event (after the step's commit)."""
    webhooks_for_application_event(event=event)


def application_events_catch_up(*, now: dt.datetime | None = None, days: int = 2) -> int:
    """Write the deliveries of application events whose after-commit signal was lost (a crash)."""
    try:
        from govcrm.services.models import ApplicationEvent
    except ImportError:  # the service catalogue is not installed
        return 0
    if not active_subscribers():
        return 0
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    events = list(ApplicationEvent.objects.filter(at__gte=since).select_related("application__service")
                  .order_by("pk")[:5000])
    if not events:
        return 0
    ids = {cloudevents.event_id("application-event", e.pk): e for e in events}
    done = set(Delivery.objects.filter(event_id__in=list(ids)).values_list("event_id", flat=True))
    return sum(webhooks_for_application_event(event=e, now=now, catching_up=True)
               for i, e in ids.items() if i not in done)


# --- subscribers --------------------------------------------------------------------------------------


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _clean_types(types) -> list[str]:
    cleaned = []
    for t in types or []:
        t = str(t).strip()
        if not t:
            continue
        if not t.startswith(cloudevents.PREFIX) or " " in t or "*" in t[:-1]:
            message = (_("An event type starts with %(prefix)s (a trailing * matches a prefix): %(type)s")
                       % {"prefix": cloudevents.PREFIX, "type": t})
            raise ValidationFailed(message, details={"event_types": message})
        cleaned.append(t)
    return sorted(set(cleaned))


def subscriber_secrets(subscriber: Subscriber, now: dt.datetime | None = None) -> list[str]:
    """The secrets to sign with: the current one, and the previous one during its grace period."""
    now = now or timezone.now()
    keys = [decrypt(subscriber.secret_encrypted)]
    until = subscriber.previous_secret_until
    if subscriber.previous_secret_encrypted and until and until > now:
        keys.append(decrypt(subscriber.previous_secret_encrypted))
    return keys


def subscriber_create(*, name: str, url: str, event_types=(), unit=None, category=None, active: bool = True,
                      actor=None) -> tuple[Subscriber, str]:
    """Register a department endpoint; returns it and its signing secret, in clear this once."""
    if not url.startswith(("https://", "http://")):
        message = _("The endpoint URL must start with https:// or http://.")
        raise ValidationFailed(message, details={"url": message})
    secret = _new_secret()
    with transaction.atomic():
        subscriber = Subscriber.objects.create(
            name=name, url=url, event_types=_clean_types(event_types), unit=unit, category=category, active=active,
            secret_encrypted=encrypt(secret))
        audit_record(action=AuditRecord.Action.CONFIG_ADD, obj=subscriber, actor=actor,
                     detail={"webhook": url, "event_types": subscriber.event_types})
    return subscriber, secret


def subscriber_secret_prepare(subscriber: Subscriber) -> str:
    """Give a subscriber being created in the admin its secret (returned in clear, once)."""
    secret = _new_secret()
    subscriber.secret_encrypted = encrypt(secret)
    subscriber.event_types = _clean_types(subscriber.event_types)
    return secret


def subscriber_rotate_secret(*, subscriber_id: int, actor=None, now: dt.datetime | None = None) -> str:
    """A new signing secret; the old one still signs (second v1) for GOVCRM_WEBHOOK_SECRET_GRACE hours."""
    now = now or timezone.now()
    secret = _new_secret()
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
        if subscriber is None:
            raise NotFound(_("No such subscriber."))
        subscriber.previous_secret_encrypted = subscriber.secret_encrypted
        subscriber.previous_secret_until = now + dt.timedelta(hours=conf.get("GOVCRM_WEBHOOK_SECRET_GRACE"))
        subscriber.secret_encrypted = encrypt(secret)
        subscriber.save()
        audit_record(action=AuditRecord.Action.CONFIG_CHANGE, obj=subscriber, actor=actor,
                     detail={"secret": "rotated"})
    return secret


def subscriber_ping(*, subscriber_id: int, actor=None, now: dt.datetime | None = None) -> Delivery:
    """Queue a test event (`gov.govcrm.test.ping`) for one subscriber, to check its endpoint and signature
    check before real events flow. It goes through the outbox like any event (log, retries, dead letter)."""
    now = now or timezone.now()
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        raise NotFound(_("No such subscriber."))
    envelope = {
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": cloudevents.source("integration"),
        "type": cloudevents.PREFIX + "test.ping", "subject": "ping", "time": cloudevents.rfc3339(now),
        "datacontenttype": "application/json", "sequence": f"{0:010d}",
        "data": {"subscriber": subscriber.name, "message": "GovCRM test event: answer 2xx if the signature verifies."},
    }
    with transaction.atomic():
        ref = SubscriberRef(subscriber.pk, (), None, None, subscriber.created_at)
        (pk,) = _write([ref], envelope, now)
        audit_record(action=AuditRecord.Action.CONFIG_CHANGE, obj=subscriber, actor=actor,
                     detail={"webhook_ping": pk})
    return Delivery.objects.get(pk=pk)


# --- delivering -----------------------------------------------------------------------------------------


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the n-th failed attempt: base × 2^(n-1), capped, with 'equal jitter' (half fixed,
    half random), so that the deliveries failed by one outage do not all come back at once."""
    delay = min(conf.get("GOVCRM_WEBHOOK_RETRY_CAP"), conf.get("GOVCRM_WEBHOOK_RETRY_BASE") * 2 ** (attempts - 1))
    return dt.timedelta(seconds=delay / 2 + random.uniform(0, delay / 2))  # noqa: S311 - jitter, not security


def _claim(delivery_id: int, now: dt.datetime) -> Delivery | None:
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(of=("self",)).select_related("subscriber")
                    .filter(pk=delivery_id).first())
        if (delivery is None or delivery.status != Delivery.Status.PENDING or delivery.next_attempt_at > now
                or not delivery.subscriber.active):
            return None
        earlier = Delivery.objects.filter(subscriber_id=delivery.subscriber_id, subject=delivery.subject,
                                          status=Delivery.Status.PENDING, pk__lt=delivery.pk)
        if earlier.exists():
            return None  # in order: the earlier one first
        delivery.attempts += 1
        delivery.next_attempt_at = now + dt.timedelta(seconds=conf.get("GOVCRM_WEBHOOK_LEASE"))
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return delivery


_client: httpx.Client | None = None


def _http() -> httpx.Client:
    """One client per process: kept-alive connections to the receivers, and the TLS context built once
    (not rebuilt for every request). httpx's Client is thread-safe. Made lazily, so that each process
    RQ forks for a job makes its own."""
    global _client
    if _client is None:
        _client = httpx.Client(follow_redirects=False, limits=httpx.Limits(max_keepalive_connections=20))
    return _client


def _post(delivery: Delivery, now: dt.datetime) -> tuple[int | None, str, int]:
    """POST the envelope; (HTTP status or None, error, latency in ms)."""
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": cloudevents.CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        signing.HEADER: signing.header_value(subscriber_secrets(delivery.subscriber, now), int(time.time()), body),
        "X-GovCRM-Delivery": str(delivery.pk),
        "X-GovCRM-Attempt": str(delivery.attempts),
    }
    started = time.monotonic()
    try:
        response = _http().post(delivery.subscriber.url, content=body, headers=headers,
                                timeout=conf.get("GOVCRM_WEBHOOK_TIMEOUT"))
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:2000], round((time.monotonic() - started) * 1000)
    latency = round((time.monotonic() - started) * 1000)
    if 200 <= response.status_code < 300:
        return response.status_code, "", latency
    return response.status_code, response.text[:500], latency


def webhook_deliver(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Attempt one delivery if it is due and its turn; returns its status afterwards ('waiting' if not tried)."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return "waiting"
    status_code, error, latency = _post(delivery, now)
    changes: dict = {"last_status_code": status_code, "last_error": error}
    if status_code is not None and 200 <= status_code < 300:
        changes.update(status=Delivery.Status.DELIVERED, delivered_at=timezone.now())
    elif delivery.attempts - delivery.attempts_before_retry >= conf.get("GOVCRM_WEBHOOK_MAX_ATTEMPTS"):
        changes["status"] = Delivery.Status.DEAD
    else:
        changes["next_attempt_at"] = now + backoff(delivery.attempts - delivery.attempts_before_retry)
    with transaction.atomic():
        # Only the holder of this attempt records it (a stale worker whose lease ran out does not).
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING,
                                attempts=delivery.attempts).update(**changes)
        DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts, at=now, status_code=status_code,
                                       latency_ms=latency, error=error)
    return changes.get("status", Delivery.Status.PENDING)


def _next_in_line(delivery_id: int) -> int | None:
    """The next pending delivery of the same subscriber and subject, after one was delivered."""
    done = Delivery.objects.filter(pk=delivery_id).values("subscriber_id", "subject").first()
    if done is None:
        return None
    return (Delivery.objects.filter(status=Delivery.Status.PENDING, **done).order_by("pk")
            .values_list("pk", flat=True).first())


def webhooks_deliver(*, ids: list[int], now: dt.datetime | None = None) -> int:
    """Deliver these (the task after a commit), each followed by the ones its success lets through."""
    delivered = 0
    for delivery_id in ids:
        current: int | None = delivery_id
        for _step in range(100):  # bounded: the sweep takes the rest
            if current is None or webhook_deliver(delivery_id=current, now=now) != Delivery.Status.DELIVERED:
                break
            delivered += 1
            current = _next_in_line(current)
    return delivered


def webhooks_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Deliver every due pending delivery in order (retries after back-off, lost enqueues)."""
    now = now or timezone.now()
    application_events_catch_up(now=now)
    due = list(Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now,
                                       subscriber__active=True)
               .order_by("pk").values_list("pk", "subscriber_id", "subject")[:limit])
    blocked: set[tuple[int, str]] = set()
    delivered = 0
    for pk, subscriber_id, subject in due:
        if (subscriber_id, subject) in blocked:
            continue
        if webhook_deliver(delivery_id=pk, now=now) == Delivery.Status.DELIVERED:
            delivered += 1
        else:
            blocked.add((subscriber_id, subject))
    return delivered


def delivery_retry(*, delivery_id: int, actor=None, now: dt.datetime | None = None) -> Delivery:
    """Give a dead delivery a new round of attempts (console / admin), and send it soon."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound(_("No such delivery."))
        if delivery.status != Delivery.Status.DEAD:
            raise NotAllowed(_("Only a dead letter is retried; this delivery is %(status)s.")
                             % {"status": delivery.get_status_display()})
        delivery.status = Delivery.Status.PENDING
        delivery.attempts_before_retry = delivery.attempts
        delivery.next_attempt_at = now
        delivery.save(update_fields=["status", "attempts_before_retry", "next_attempt_at"])
        audit_record(action=AuditRecord.Action.CONFIG_CHANGE, obj=delivery, actor=actor,
                     detail={"webhook_delivery": delivery.pk, "retry": True})
        transaction.on_commit(lambda: _enqueue([delivery.pk]))
    return delivery


# --- department systems' accounts and tokens -------------------------------------------------------------

DEPARTMENT_SCOPES = ("cases:read", "cases:write", "reference:read")


def department_token_create(*, unit_code: str, role: str = "handler", username: str | None = None,
                            name: str = "", expires_at: dt.datetime | None = None, actor=None) -> tuple[str, str]:
    """Make (or reuse) the unit's system account and give it a new token limited to the unit's subtree.

    Returns (username, token in clear, shown once).
    """
    from django.contrib.auth import get_user_model

    from govcrm.organization.actions import api_token_create
    from govcrm.organization.models import UNIT_ROLES, StaffProfile, Unit

    unit = Unit.objects.filter(code=unit_code, active=True).first()
    if unit is None:
        raise NotFound(_("No active unit %(code)s.") % {"code": unit_code})
    if role not in UNIT_ROLES:
        message = _("A department system acts as a unit handler or manager.")
        raise ValidationFailed(message, details={"role": message})
    username = username or f"system-{unit.code}"
    with transaction.atomic():
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save()
        profile = StaffProfile.objects.filter(user=user).select_related("unit").first()
        if profile is None:
            StaffProfile.objects.create(user=user, role=role, unit=unit)
        elif not unit.path.startswith(profile.unit.path) or profile.role not in UNIT_ROLES:
            message = _("The account %(user)s works elsewhere; choose another username.") % {"user": username}
            raise ValidationFailed(message, details={"username": message})
        token = api_token_create(username=username, name=name or f"{unit.code} system", scopes=DEPARTMENT_SCOPES,
                                 expires_at=expires_at, actor=actor, unit=unit.code)
    return username, token
