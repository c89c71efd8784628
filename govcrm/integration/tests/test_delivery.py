"""Delivery to a real HTTP receiver on 127.0.0.1 that fails, refuses connections, then recovers.

These tests commit for real (transaction=True): the delivery task runs on commit, as in production
(the suite's task backend runs it at once), and the sweep is called with a clock moved forward
instead of waiting for the back-off.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from govcrm.cases.tests.factories import move, register
from govcrm.integration.actions import (
    backoff,
    delivery_retry,
    subscriber_rotate_secret,
    webhook_deliver,
    webhooks_sweep,
)
from govcrm.integration.models import Delivery, DeliveryAttempt, Subscriber
from govcrm.integration.signing import BadSignature, header_value, verify

from .factories import subscriber
from .receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.GOVCRM_WEBHOOK_TIMEOUT = 3
    settings.GOVCRM_WEBHOOK_MAX_ATTEMPTS = 6


def _later(minutes: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(minutes=minutes)


def _lifecycle(city, n: int = 2) -> list[str]:
    """n cases, each registered, dispatched to the street, accepted and replied: 4 events each."""
    numbers = []
    for i in range(n):
        case = register(city.actor("agent"), description=f"和平街{i}号路灯坏了")
        move(city.actor("dispatcher"), case, "dispatch", unit=city.street1.code)
        move(city.actor("street_handler"), case, "accept")
        move(city.actor("street_handler"), case, "reply", reply="路灯已修复。")
        numbers.append(case.number)
    return numbers


def test_every_event_arrives_once_in_order_after_the_receiver_recovers(city, receiver):
    secret = subscriber(receiver.url)[1]
    receiver.secret = secret
    receiver.mode = "fail"  # 500 to everything
    numbers = _lifecycle(city)
    assert Delivery.objects.filter(status="pending").count() == 8
    # Only the first event of each case was tried (on commit); the later ones wait for it, in order.
    tried = {r.event["id"] for r in receiver.all()}
    firsts = set(Delivery.objects.filter(payload__sequence="0000000001").values_list("payload__id", flat=True))
    assert tried == firsts
    assert all(r.signature_ok for r in receiver.all())

    webhooks_sweep(now=_later(1))  # still failing: back-off grows, nothing delivered
    receiver.stop()  # and then down altogether: connection refused
    webhooks_sweep(now=_later(10))
    refused = DeliveryAttempt.objects.filter(status_code__isnull=True)
    assert refused.exists() and all("Connect" in a.error for a in refused)
    assert Delivery.objects.filter(status="delivered").count() == 0
    assert receiver.acknowledged() == []

    receiver.start()  # back on the same port, healthy
    receiver.mode = "ok"
    webhooks_sweep(now=_later(60))
    assert Delivery.objects.filter(status="delivered").count() == 8

    acked = receiver.acknowledged()
    ids = [e["id"] for e in acked]
    assert len(ids) == len(set(ids)) == 8  # each once
    for number in numbers:
        seqs = [e["sequence"] for e in acked if e["subject"] == number]
        assert seqs == sorted(seqs) == [f"{i:010d}" for i in range(1, 5)]  # in order per case
    types = [e["type"] for e in acked if e["subject"] == numbers[0]]
    assert types == ["gov.govcrm.case.registered", "gov.govcrm.case.dispatched", "gov.govcrm.case.accepted",
                     "gov.govcrm.case.replied"]

    # Acknowledged is final: later sweeps, even far ahead, send nothing again.
    count = len(receiver.all())
    webhooks_sweep(now=_later(24 * 60))
    for d in Delivery.objects.all():
        assert webhook_deliver(delivery_id=d.pk, now=_later(48 * 60)) == "waiting"
    assert len(receiver.all()) == count
    # The log: every attempt with its status or error and latency.
    first = Delivery.objects.get(payload__id=ids[0])
    log = list(first.log.order_by("number"))
    assert [a.number for a in log] == list(range(1, first.attempts + 1))
    assert log[0].status_code == 500 and log[-1].status_code == 204
    assert all(a.latency_ms >= 0 for a in log)


def test_a_new_event_of_a_case_waits_behind_a_failing_one(city, receiver):
    secret = subscriber(receiver.url)[1]
    receiver.secret = secret
    receiver.mode = "fail"
    case = register(city.actor("agent"))
    receiver.mode = "ok"  # recovered, but the registration's retry is not due yet
    move(city.actor("dispatcher"), case, "dispatch", unit=city.street1.code)
    assert receiver.acknowledged() == []  # the dispatch did not overtake the registration
    webhooks_sweep(now=_later(5))
    assert [e["type"] for e in receiver.acknowledged()] == ["gov.govcrm.case.registered",
                                                            "gov.govcrm.case.dispatched"]


def test_dead_after_the_last_attempt_then_retried_by_a_person(city, receiver, settings):
    settings.GOVCRM_WEBHOOK_MAX_ATTEMPTS = 3
    secret = subscriber(receiver.url, event_types=["gov.govcrm.case.registered"])[1]
    receiver.secret = secret
    receiver.mode = "fail"
    register(city.actor("agent"))
    for minutes in (10, 60, 600):
        webhooks_sweep(now=_later(minutes))
    delivery = Delivery.objects.get()
    assert delivery.status == "dead" and delivery.attempts == 3
    webhooks_sweep(now=_later(6000))
    assert delivery.log.count() == 3  # a dead letter is not tried again by itself

    receiver.mode = "ok"
    delivery_retry(delivery_id=delivery.pk)  # on commit: sent at once
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 4
    assert len(receiver.acknowledged()) == 1


def test_a_dead_letter_no_longer_holds_back_the_later_events_of_its_case(city, receiver, settings):
    settings.GOVCRM_WEBHOOK_MAX_ATTEMPTS = 1
    secret = subscriber(receiver.url)[1]
    receiver.secret = secret
    receiver.mode = "fail"
    case = register(city.actor("agent"))
    assert Delivery.objects.get().status == "dead"
    receiver.mode = "ok"
    move(city.actor("dispatcher"), case, "dispatch", unit=city.street1.code)
    assert [e["type"] for e in receiver.acknowledged()] == ["gov.govcrm.case.dispatched"]


def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings):
    settings.GOVCRM_WEBHOOK_RETRY_BASE = 30
    settings.GOVCRM_WEBHOOK_RETRY_CAP = 3600
    for n in (1, 2, 3, 4):
        waits = {backoff(n).total_seconds() for _ in range(30)}
        full = 30 * 2 ** (n - 1)
        assert all(full / 2 <= w <= full for w in waits)
        assert len(waits) > 1  # jitter
    assert all(1800 <= backoff(20).total_seconds() <= 3600 for _ in range(10))


def test_signature_check_as_a_receiver_does_it(city, receiver):
    secret = subscriber(receiver.url)[1]
    receiver.secret = secret
    register(city.actor("agent"))
    got = receiver.all()[0]
    assert got.signature_ok and got.status == 204
    assert got.headers["Content-Type"] == "application/cloudevents+json; charset=utf-8"
    body = b'{"id":"x"}'
    now = int(time.time())
    header = header_value([secret], now, body)
    assert verify(body, header, secret) == now
    with pytest.raises(BadSignature):
        verify(body + b" ", header, secret)  # body changed
    with pytest.raises(BadSignature):
        verify(body, header, "whsec_other")  # another secret
    with pytest.raises(BadSignature):
        verify(body, header_value([secret], now - 600, body), secret)  # replayed 10 minutes later
    with pytest.raises(BadSignature):
        verify(body, "v1=abc", secret)

    # A receiver with the wrong secret refuses (401): the delivery is not acknowledged.
    receiver.secret = "whsec_wrong"
    register(city.actor("agent"), description="另一个工单")
    assert receiver.all()[-1].status == 401
    assert Delivery.objects.filter(status="pending").count() == 1


def test_a_rotated_secret_signs_with_both_during_the_grace_period(city, receiver):
    sub, old = subscriber(receiver.url)
    new = subscriber_rotate_secret(subscriber_id=sub.pk)
    assert new != old
    receiver.secret = old  # the receiver has not switched yet: still verifies
    register(city.actor("agent"))
    receiver.secret = new  # switched: verifies too
    register(city.actor("agent"), description="第二个")
    assert [r.status for r in receiver.all()] == [204, 204]
    assert receiver.all()[0].headers["X-GovCRM-Signature"].count("v1=") == 2
    Subscriber.objects.filter(pk=sub.pk).update(previous_secret_until=timezone.now() - dt.timedelta(seconds=1))
    receiver.secret = old
    register(city.actor("agent"), description="第三个")
    assert receiver.all()[-1].status == 401  # the old secret no longer signs


def test_an_inactive_subscriber_gets_nothing(city, receiver):
    sub, secret = subscriber(receiver.url)
    receiver.secret = secret
    sub.active = False
    sub.save()
    register(city.actor("agent"))
    webhooks_sweep(now=_later(60))
    assert receiver.all() == [] and Delivery.objects.count() == 0


def test_one_delivery_task_per_transaction_and_none_after_a_rollback(city, monkeypatch):
    from django.db import transaction

    from govcrm.cases.tests.factories import dispatch_rule
    from govcrm.integration import actions

    enqueued = []
    monkeypatch.setattr(actions, "_enqueue", lambda ids: enqueued.append(sorted(ids)))
    dispatch_rule("urban.lighting.out", city.street1)
    subscriber("http://127.0.0.1:9/unused")
    case = register(city.actor("agent"))  # registration + dispatch by rule: two events, one transaction
    assert enqueued == [sorted(Delivery.objects.filter(subject=case.number).values_list("pk", flat=True))]
    assert len(enqueued[0]) == 2

    enqueued.clear()
    with pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012 - the rollback is the point
        register(city.actor("agent"), description="回滚")
        raise RuntimeError
    assert enqueued == []
    case = register(city.actor("agent"), description="提交")
    assert enqueued == [sorted(Delivery.objects.filter(subject=case.number).values_list("pk", flat=True))]


def test_a_test_event_checks_the_endpoint_and_the_signature(city, receiver):
    from govcrm.integration.actions import subscriber_ping

    sub, secret = subscriber(receiver.url)
    receiver.secret = secret
    delivery = subscriber_ping(subscriber_id=sub.pk)  # on commit: sent at once
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    got = receiver.all()[0]
    assert got.signature_ok and got.event["type"] == "gov.govcrm.test.ping" and got.event["subject"] == "ping"
