"""The outbox: written with the case change, sent once, retried with back-off."""

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from govcrm.cases.tests.factories import move, register
from govcrm.channels.models import Interaction
from govcrm.notifications.actions import notification_send, notification_sweep
from govcrm.notifications.models import Notification

pytestmark = pytest.mark.django_db


class Failing:
    def send(self, *, note, to):
        raise ConnectionError("provider down")


def test_phone_case_gets_sms_on_registration_acceptance_reply_and_closure(city):
    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    move(city.actor("street_handler"), case, "accept")
    move(city.actor("street_handler"), case, "reply", reply="路灯已修复")
    move(city.actor("dispatcher"), case, "review")
    move(city.actor("agent"), case, "follow_up", resolved=True, satisfied=True)
    kinds = list(Notification.objects.filter(case=case).order_by("id").values_list("kind", "channel"))
    assert kinds == [("registered", "sms"), ("accepted", "sms"), ("replied", "sms"), ("closed", "sms")]
    body = Notification.objects.get(case=case, kind="replied").body
    assert case.number in body and "路灯已修复" in body


def test_sent_on_commit_through_the_task_and_never_twice(city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = register(city.actor("agent"))
    note = Notification.objects.get(case=case)
    assert note.status == "sent" and note.attempts == 1
    assert notification_send(notification_id=note.pk) == "sent"
    assert Notification.objects.get(pk=note.pk).attempts == 1  # not sent again
    assert Interaction.objects.filter(case=case, direction="out", external_id=note.dedupe_key).count() == 1


def test_email_in_the_citizens_language_with_the_case_number(city, django_capture_on_commit_callbacks):
    from govcrm.citizens.models import Citizen

    with django_capture_on_commit_callbacks(execute=True):
        case = register(city.actor("agent"), citizen={"name": "Ann Lee", "email": "ann@example.org",
                                                       "language": "en"})
        Citizen.objects.filter(pk=case.citizen_id).update(preferred_channel="email")
        move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
        move(city.actor("street_handler"), case, "accept")
    assert len(mail.outbox) == 2
    accepted = mail.outbox[-1]
    assert case.number in accepted.subject and "accepted" in accepted.body
    assert accepted.to == ["ann@example.org"]


def test_failure_retries_with_backoff_then_gives_up(city, settings):
    settings.GOVCRM_NOTIFY_BACKENDS = {**settings.GOVCRM_NOTIFY_BACKENDS,
                                       "sms": "govcrm.notifications.tests.test_notifications.Failing"}
    case = register(city.actor("agent"))
    note = Notification.objects.get(case=case)
    now = timezone.now()
    assert notification_send(notification_id=note.pk, now=now) == "pending"
    note.refresh_from_db()
    assert note.attempts == 1 and note.next_attempt_at == now + dt.timedelta(minutes=1)
    assert "provider down" in note.last_error
    assert notification_send(notification_id=note.pk, now=now) == "pending"  # not due yet
    assert Notification.objects.get(pk=note.pk).attempts == 1
    for i in range(10):
        notification_send(notification_id=note.pk, now=now + dt.timedelta(days=i + 1))
    note.refresh_from_db()
    assert note.status == "failed" and note.attempts == 8


def test_no_identity_or_opt_out_means_no_message(city):
    from govcrm.citizens.models import Citizen

    register(city.actor("agent"), citizen=None)
    assert Notification.objects.count() == 0
    case = register(city.actor("agent"))
    Citizen.objects.filter(pk=case.citizen_id).update(sms_opt_out=True)
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    move(city.actor("street_handler"), case, "accept")
    assert list(Notification.objects.values_list("kind", flat=True)) == ["registered"]


def test_sweep_sends_what_was_never_enqueued(city):
    register(city.actor("agent"))
    assert notification_sweep() == 1
    assert notification_sweep() == 0


def test_plain_text_messages_are_not_html_escaped(city):
    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    move(city.actor("street_handler"), case, "accept")
    move(city.actor("street_handler"), case, "reply", reply="A & B <ok> it's")
    move(city.actor("dispatcher"), case, "review")
    body = Notification.objects.get(case=case, kind="replied").body
    assert "A & B <ok> it's" in body


class Refusing:
    def send(self, *, note, to):
        from govcrm.notifications.backends import Undeliverable

        raise Undeliverable("the follower unsubscribed")


def test_permanent_refusal_is_skipped_not_retried(city, settings):
    settings.GOVCRM_NOTIFY_BACKENDS = {**settings.GOVCRM_NOTIFY_BACKENDS,
                                       "sms": "govcrm.notifications.tests.test_notifications.Refusing"}
    case = register(city.actor("agent"))
    note = Notification.objects.get(case=case)
    assert notification_send(notification_id=note.pk) == "skipped"
    note.refresh_from_db()
    assert note.attempts == 1 and "unsubscribed" in note.last_error


def test_a_claimed_notification_is_not_sent_twice_and_is_retried_after_a_crash(city):
    from govcrm.notifications.actions import _claim

    lease = dt.timedelta(seconds=settings.GOVCRM_NOTIFY_LEASE_SECONDS)
    case = register(city.actor("agent"))
    note = Notification.objects.get(case=case)
    now = timezone.now()
    assert getattr(_claim(note.pk, now), "claimed", False)  # a worker claims it, then dies
    assert notification_send(notification_id=note.pk, now=now) == "pending"  # another worker: not due
    assert Notification.objects.get(pk=note.pk).attempts == 1
    assert notification_send(notification_id=note.pk, now=now + lease) == "sent"  # after the lease
    assert Notification.objects.get(pk=note.pk).attempts == 2


def test_reply_reaches_the_citizen_only_once_approved(city):
    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    move(city.actor("street_handler"), case, "accept")
    move(city.actor("street_handler"), case, "reply", reply="已处理")
    assert not Notification.objects.filter(case=case, kind="replied").exists()
    move(city.actor("dispatcher"), case, "send_back", reason="答复不完整")
    move(city.actor("street_handler"), case, "reply", reply="已更换灯泡并复查")
    move(city.actor("dispatcher"), case, "review")
    bodies = list(Notification.objects.filter(case=case, kind="replied").values_list("body", flat=True))
    assert len(bodies) == 1 and "已更换灯泡并复查" in bodies[0]
