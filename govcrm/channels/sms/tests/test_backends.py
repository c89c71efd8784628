"""Outgoing SMS through a real HTTP gateway on 127.0.0.1 that speaks the provider protocol."""

import logging

import pytest

from govcrm.cases.tests.factories import register
from govcrm.channels.models import Interaction
from govcrm.channels.sms.backends import HttpSmsBackend, SmsBackend, SmsOptedOut
from govcrm.citizens.models import Citizen
from govcrm.notifications.actions import notification_send
from govcrm.notifications.models import Notification

from .conftest import payload

pytestmark = pytest.mark.django_db

BACKEND = "govcrm.channels.sms.backends.SmsBackend"


@pytest.fixture
def sms_notes(settings):
    settings.GOVCRM_NOTIFY_BACKENDS = {**settings.GOVCRM_NOTIFY_BACKENDS, "sms": BACKEND}


def test_the_acknowledgement_of_an_sms_case_is_sent_through_the_gateway(
        city, sms_provider, sms_notes, post_generic, django_capture_on_commit_callbacks, settings):
    with django_capture_on_commit_callbacks(execute=True):
        number = post_generic(payload("generic_inbound.json")).json()["case"]
    note = Notification.objects.get(case__number=number)
    assert note.channel == "sms" and note.status == "sent" and note.provider_id == "msg-1"
    (sent,) = sms_provider.messages
    assert sent["to"] == "+8613800138000" and sent["from"] == settings.GOVCRM_SMS_SENDER
    assert sent["client_ref"] == note.dedupe_key and number in sent["text"]
    assert Interaction.objects.filter(direction="out", external_id=note.dedupe_key, case__number=number).exists()


def test_a_send_retried_after_a_crash_is_not_sent_twice(city, sms_provider):
    case = register(city.actor("agent"))
    note = Notification.objects.get(case=case)
    # The provider took the message but our commit was lost: the outbox sends it again.
    first = HttpSmsBackend().send(note=note, to="+8613800138000")
    again = HttpSmsBackend().send(note=note, to="+8613800138000")
    assert first == again == "msg-1"
    assert len(sms_provider.messages) == 1 and sms_provider.requests == 2


def test_provider_trouble_is_retried_by_the_outbox(city, sms_provider, sms_notes):
    case = register(city.actor("agent"))
    note = Notification.objects.get(case=case)
    sms_provider.fail_next = 1
    assert notification_send(notification_id=note.pk) == "pending"
    failed = Notification.objects.get(pk=note.pk)
    assert "503" in failed.last_error and failed.attempts == 1
    assert notification_send(notification_id=note.pk, now=failed.next_attempt_at) == "sent"
    assert len(sms_provider.messages) == 1


def test_a_wrong_secret_is_refused_by_the_provider(city, sms_provider, settings):
    case = register(city.actor("agent"))
    settings.GOVCRM_SMS_SECRET = "not-the-providers"
    with pytest.raises(Exception, match="401"):
        HttpSmsBackend().send(note=Notification.objects.get(case=case), to="+8613800138000")
    assert sms_provider.messages == []


def test_an_opted_out_citizen_gets_no_sms(city, sms_provider):
    case = register(city.actor("agent"))
    note = Notification.objects.get(case=case)
    Citizen.objects.filter(pk=case.citizen_id).update(sms_opt_out=True)
    note = Notification.objects.select_related("citizen").get(pk=note.pk)
    with pytest.raises(SmsOptedOut):
        SmsBackend().send(note=note, to="+8613800138000")
    assert sms_provider.requests == 0


def test_without_a_gateway_url_the_message_is_logged(city, settings, caplog):
    settings.GOVCRM_SMS_API_URL = ""
    case = register(city.actor("agent"))
    note = Notification.objects.get(case=case)
    with caplog.at_level(logging.WARNING):
        assert SmsBackend().send(note=note, to="+8613800138000") == f"console:{note.dedupe_key}"
    assert case.number in caplog.text
