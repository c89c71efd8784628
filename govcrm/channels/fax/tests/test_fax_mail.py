"""Fax-to-mail through the real SMTP listener: mail from the gateway becomes a draft fax case."""

import shutil
import smtplib
from pathlib import Path

import pytest

from govcrm.cases.models import Case
from govcrm.cases.workflow import Status
from govcrm.channels.email.listener import MailListener
from govcrm.channels.intake import UNCLASSIFIED
from govcrm.channels.models import Attachment, Interaction

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
INTAKE = "12345@govcrm.localhost"

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.slow,
              pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")]


@pytest.fixture
def listener():
    with MailListener("127.0.0.1", 0) as server:
        yield server


def send(listener, raw: bytes, sender: str) -> tuple[int, str]:
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=60) as smtp:
        smtp.ehlo()
        smtp.mail(sender)
        assert smtp.rcpt(INTAKE)[0] == 250
        code, reply = smtp.data(raw)
        return code, reply.decode()


def test_fax_from_the_gateway_becomes_a_draft_case(listener, mailoutbox):
    raw = (FIXTURES / "fax_gateway.eml").read_bytes()
    code, reply = send(listener, raw, "fax@gateway.localhost")
    case = Case.objects.get()
    assert code == 250 and f"fax registered as case {case.number}" in reply
    assert case.channel == "fax" and case.status == Status.REGISTERED and case.category.code == UNCLASSIFIED
    assert "路灯已经坏了两个星期" in case.description and "红笔标出" in case.description
    att = Attachment.objects.get()
    assert att.file.read() == (FIXTURES / "fax_letter.tif").read_bytes()
    interaction = Interaction.objects.get(direction="in")
    assert interaction.channel == "fax"
    assert interaction.external_id == "<fax.20261127104107.0042@faxgw01.gateway.localhost>#1"
    assert interaction.data["pages"] == 2 and interaction.data["sender"] == "010-8888 6666"
    assert mailoutbox == []  # the gateway is not acknowledged; the sender is told by SMS (notifications)
    assert case.notifications.get().channel == "sms"

    code, reply = send(listener, raw, "fax@gateway.localhost")  # the gateway delivers again
    assert code == 250 and "already received" in reply
    assert Case.objects.count() == 1 and Interaction.objects.filter(direction="in").count() == 1


def test_gateway_mail_without_a_fax_stores_nothing(listener):
    raw = (b"From: fax@gateway.localhost\r\nTo: 12345@govcrm.localhost\r\nSubject: Fax failed\r\n"
           b"Message-ID: <f0@gw>\r\n\r\nReception of a fax from 010-8888 6666 failed.\r\n")
    code, reply = send(listener, raw, "fax@gateway.localhost")
    assert code == 250 and "not stored" in reply and not Interaction.objects.exists()
