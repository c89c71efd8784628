"""A case's channel contacts and their files on the case page, only for staff who may see them."""

import io

import pytest
from PIL import Image

from govcrm.cases.tests.factories import move
from govcrm.channels.intake import IntakeMessage, intake_receive
from govcrm.channels.models import Attachment
from govcrm.channels.uploads import clean_image
from govcrm.citizens.actions import citizen_input_clean

pytestmark = pytest.mark.django_db


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def sms_case(city):
    result = intake_receive(IntakeMessage(channel="sms", text="路灯坏了，附照片", external_id="m1",
                                          citizen=citizen_input_clean(phone="13800138000"),
                                          attachments=(clean_image(photo(), "lamp.png"),)))
    return result.case


def test_contacts_and_files_are_shown_and_served(city, client, sms_case):
    client.force_login(city.users["dispatcher"])
    html = client.get(f"/console/cases/{sms_case.number}/").content.decode()
    att = Attachment.objects.get()
    url = f"/console/cases/{sms_case.number}/files/{att.pk}/"
    assert "路灯坏了，附照片" in html and url in html
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert b"".join(r.streaming_content).startswith(b"\x89PNG")


def test_files_of_other_units_cases_are_not_served(city, client, sms_case):
    move(city.actor("dispatcher"), sms_case, "dispatch", unit="gov-d1s1")
    att = Attachment.objects.get()
    client.force_login(city.users["other_handler"])
    assert client.get(f"/console/cases/{sms_case.number}/files/{att.pk}/").status_code == 404
    client.force_login(city.users["street_handler"])
    assert client.get(f"/console/cases/{sms_case.number}/files/{att.pk}/").status_code == 200
    assert client.get(f"/console/cases/{sms_case.number}/files/{att.pk + 1}/").status_code == 404


def test_citizen_timeline_shows_every_channel(city, client, sms_case):
    mail = IntakeMessage(channel="email", text="邮件补充说明", external_id="<m2@example.org>",
                         case_number=sms_case.number, citizen=citizen_input_clean(phone="13800138000"))
    intake_receive(mail)
    client.force_login(city.users["agent"])
    html = client.get(f"/console/citizens/{sms_case.citizen_id}/").content.decode()
    assert "路灯坏了，附照片" in html and "邮件补充说明" in html and sms_case.number in html
    case_page = client.get(f"/console/cases/{sms_case.number}/").content.decode()
    assert f"/console/citizens/{sms_case.citizen_id}/" in case_page
    client.force_login(city.users["street_handler"])
    assert client.get(f"/console/citizens/{sms_case.citizen_id}/").status_code == 403
