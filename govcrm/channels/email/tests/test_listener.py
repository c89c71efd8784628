"""A real SMTP session with smtplib against the mail listener on 127.0.0.1.

The listener stores messages from its own threads, so these tests commit for real
(transaction=True); serialized_rollback restores the reference data (categories) after them.
"""

import smtplib
from email import policy
from email.message import EmailMessage

import pytest
from django.db import OperationalError

from govcrm.cases.models import Case, CaseEvent
from govcrm.channels.email import actions
from govcrm.channels.email.listener import MailListener
from govcrm.channels.email.parsing import parse_mail
from govcrm.channels.models import Attachment, Interaction

from .fixtures import INTAKE, eml

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.slow]


@pytest.fixture
def listener():
    with MailListener("127.0.0.1", 0) as server:
        yield server


def send(listener, raw: bytes, *, sender="citizen@example.org", to=INTAKE):
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=30) as smtp:
        smtp.ehlo("client.example.org")
        smtp.mail(sender)
        code, reply = smtp.rcpt(to)
        assert code == 250, reply
        code, reply = smtp.data(raw)
        return code, reply.decode()


def chinese_mail_with_photo() -> bytes:
    msg = EmailMessage()
    msg["From"] = "王建国 <wangjianguo@example.org>"
    msg["To"] = f"市民热线 <{INTAKE}>"
    msg["Subject"] = "安定路井盖丢失，很危险"
    msg["Message-ID"] = "<manhole-1@example.org>"
    msg.set_content("安定路42号门前的井盖丢了，晚上很容易掉下去，请尽快处理。照片见附件。")
    jpeg = parse_mail(eml("zh_photo_attachment")).attachments[0].data  # the real photo's bytes
    msg.add_attachment(jpeg, maintype="image", subtype="jpeg", filename="井盖.jpg")
    return msg.as_bytes(policy=policy.SMTP)  # CRLF line ends, as on the wire


def test_new_mail_opens_a_case_and_is_acknowledged(listener, mailoutbox):
    code, reply = send(listener, chinese_mail_with_photo(), sender="wangjianguo@example.org")
    case = Case.objects.get()
    assert code == 250 and case.number in reply
    assert case.channel == "email" and case.title == "安定路井盖丢失，很危险"
    assert "井盖丢了" in case.description
    assert Attachment.objects.get().name == "井盖.jpg"
    (ack,) = mailoutbox
    assert ack.to == ["wangjianguo@example.org"] and ack.subject.startswith(f"[{case.number}] ")
    assert case.query_code in ack.body


def test_redelivery_creates_nothing(listener, mailoutbox):
    raw = eml("zh_new_request")
    first = send(listener, raw)
    again = send(listener, raw)
    number = Case.objects.get().number
    assert number in first[1] and again[0] == 250 and "already received" in again[1] and number in again[1]
    assert Interaction.objects.filter(direction="in").count() == 1 and len(mailoutbox) == 1


def test_reply_with_in_reply_to_joins_the_case(listener, mailoutbox):
    send(listener, eml("zh_new_request"))
    code, reply = send(listener, eml("zh_reply"))
    case = Case.objects.get()
    assert code == 250 and f"added to case {case.number}" in reply
    assert CaseEvent.objects.filter(case=case, action="note").count() == 1
    assert case.interactions.filter(direction="in").count() == 2
    assert len(mailoutbox) == 1


def test_case_number_in_the_subject_joins_the_case(listener):
    send(listener, eml("en_new_request"))
    number = Case.objects.get().number
    code, reply = send(listener, eml("zh_case_number_subject", CASENUMBER=number))
    assert code == 250 and f"added to case {number}" in reply
    assert Case.objects.count() == 1 and CaseEvent.objects.filter(action="note").count() == 1


@pytest.mark.parametrize("fixture", ["auto_reply", "bounce"])
def test_auto_reply_and_bounce_create_nothing(listener, mailoutbox, fixture):
    code, reply = send(listener, eml(fixture), sender="" if fixture == "bounce" else "liu.yang@corp.example")
    assert code == 250 and "not stored" in reply
    assert not Case.objects.exists() and not Interaction.objects.exists() and mailoutbox == []


def test_other_recipients_are_refused(listener):
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail("someone@example.org")
        code, _reply = smtp.rcpt("postmaster@elsewhere.example")
        assert code == 550
        smtp.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("someone@example.org", ["relay@elsewhere.example"], b"Subject: x\r\n\r\nx\r\n")
    assert not Interaction.objects.exists()


def test_recipient_address_is_case_insensitive(listener):
    code, _reply = send(listener, eml("en_new_request"), to=INTAKE.upper())
    assert code == 250 and Case.objects.count() == 1


def test_database_error_asks_the_sender_to_retry(listener, monkeypatch):
    def broken(raw, **kw):
        raise OperationalError("database is locked")

    monkeypatch.setattr(actions, "mail_receive", broken)
    code, _reply = send(listener, eml("en_new_request"))
    assert code == 451
    monkeypatch.undo()
    code, _reply = send(listener, eml("en_new_request"))  # the retry is stored
    assert code == 250 and Case.objects.count() == 1


def test_too_large_message_is_refused():
    with (MailListener("127.0.0.1", 0, data_size_limit=2_000) as small,
          smtplib.SMTP("127.0.0.1", small.port, timeout=30) as smtp,
          pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused):
        smtp.sendmail("a@example.org", [INTAKE], eml("zh_photo_attachment"))
    assert refused.value.smtp_code == 552
    assert not Interaction.objects.exists()
