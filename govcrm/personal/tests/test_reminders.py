"""Reminders sent through the notifications outbox: once, by the citizen's channel, only with consent."""

import pytest
from django.core import mail

from govcrm.channels.models import Interaction
from govcrm.notifications.actions import notification_send
from govcrm.notifications.models import Notification
from govcrm.personal.actions import reminders_queue

from .factories import world

pytestmark = pytest.mark.django_db


def _reminders():
    return Notification.objects.filter(kind=Notification.Kind.REMINDER).order_by("dedupe_key")


def test_the_renewal_and_the_coming_birthday_are_queued_once(city):
    w = world(city)
    assert reminders_queue() == 2
    notes = list(_reminders())
    assert {n.citizen_id for n in notes} == {w.zhang.pk}
    assert all(n.channel == "sms" for n in notes)  # preferred: phone → a text message
    assert any("居住证签注" in n.body and "有效期至" in n.body for n in notes)
    assert any("老年人优待证办理" in n.body for n in notes)
    assert reminders_queue() == 0  # the worker may run twice: nothing new
    assert _reminders().count() == 2
    # other citizens have no notice due: nothing for them
    assert not Notification.objects.exclude(citizen=w.zhang).exists()


def test_no_consent_no_message(city):
    w = world(city)
    w.zhang.consent_contact = False
    w.zhang.save()
    assert reminders_queue() == 0
    assert not _reminders().exists()


def test_opted_out_of_sms_gets_an_email_in_english(city):
    w = world(city)
    w.zhang.sms_opt_out = True
    w.zhang.language = "en"
    w.zhang.save()
    assert reminders_queue() == 2
    note = _reminders().filter(body__contains="endorsement").get()
    assert note.channel == "email" and note.language == "en"
    assert note.subject == "Reminder: renew “Residence permit endorsement”"
    assert notification_send(notification_id=note.pk) == Notification.Status.SENT
    sent = mail.outbox[-1]
    assert sent.to == ["zhang.san@example.cn"] and sent.subject == note.subject
    assert "working days left" in sent.body and "agreed to be contacted" in sent.body
    # on the citizen's timeline, like every message sent
    assert Interaction.objects.filter(citizen=w.zhang, direction=Interaction.Direction.OUTBOUND,
                                      channel="email").exists()


def test_the_command_queues_once_and_refuses_a_bad_date(city):
    from io import StringIO

    from django.core.management import CommandError, call_command

    world(city)
    out = StringIO()
    call_command("reminders", stdout=out)
    assert out.getvalue().startswith("2 reminder(s)")
    call_command("reminders", stdout=out)
    assert "0 reminder(s)" in out.getvalue()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("reminders", "--date", "27/11/2026")
