"""fax_receive: a draft case with the OCR text and the file kept; idempotent; the console upload."""

import shutil

import pytest
from django.test import Client

from govcrm.cases.models import Case
from govcrm.cases.workflow import Status
from govcrm.channels.fax import actions
from govcrm.channels.fax.actions import fax_receive, fax_sender_from, is_fax_file
from govcrm.channels.fax.ocr import OcrUnavailable
from govcrm.channels.intake import UNCLASSIFIED
from govcrm.channels.models import Attachment, Interaction
from govcrm.common.errors import ValidationFailed

from .factories import fax_tiff

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")]


@pytest.fixture(scope="module")
def tiff():
    return fax_tiff()


def test_fax_opens_a_draft_case(tiff):
    result = fax_receive(data=tiff, name="fax.tif", sender="010-8888 6666", external_id="<m@gw>#1")
    case = result.case
    assert result.created and result.new_case
    assert case.channel == "fax" and case.status == Status.REGISTERED and case.category.code == UNCLASSIFIED
    assert case.case_type == "help" and "路灯已经坏了两个星期" in case.description
    assert case.title == "来自 010-8888 6666 的传真"
    att = Attachment.objects.get()
    assert att.content_type == "image/tiff" and att.file.read() == tiff
    data = result.interaction.data
    assert data["ocr"] is True and data["confidence"] > 60 and data["pages"] == 1 and data["sender"] == "010-8888 6666"
    assert case.citizen.identities.get(kind="phone").value == "+861088886666"


def test_redelivery_creates_nothing_and_is_not_read_again(tiff, monkeypatch):
    first = fax_receive(data=tiff, name="fax.tif", external_id="<m@gw>#1")
    monkeypatch.setattr(actions, "ocr_document", lambda data: pytest.fail("read again"))
    again = fax_receive(data=tiff, name="fax.tif", external_id="<m@gw>#1")
    assert not again.created and again.case == first.case
    assert Case.objects.count() == 1 and Interaction.objects.count() == 1


def test_upload_without_external_id_is_idempotent_on_the_file(tiff):
    first = fax_receive(data=tiff, name="fax.tif")
    again = fax_receive(data=tiff, name="scan.tif")
    assert first.interaction.external_id.startswith("sha256:") and again.case == first.case


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_not_a_fax_is_refused_and_nothing_stored():
    with pytest.raises(ValidationFailed):
        fax_receive(data=b"%!PS-Adobe-3.0 not a fax", name="fax.ps")
    with pytest.raises(ValidationFailed):
        fax_receive(data=b"II*\x00 broken", name="broken.tif")
    assert not Interaction.objects.exists()


def test_fax_is_kept_when_ocr_is_unavailable(tiff, monkeypatch):
    def unavailable(data):
        raise OcrUnavailable("fax OCR needs tesseract")

    monkeypatch.setattr(actions, "ocr_document", unavailable)
    result = fax_receive(data=tiff, name="fax.tif")
    assert result.case.description == "（文字识别不可用：请查看传真图像）"
    assert result.interaction.data["ocr"] is False and Attachment.objects.count() == 1


def test_sender_and_file_kind():
    assert fax_sender_from("Fax from 010-8888 6666 (2 pages)") == "010-8888 6666"
    assert fax_sender_from("传真", "来自 +86 10 8888 6666") == "+86 10 8888 6666"
    assert fax_sender_from("Fax from (010) 8888 6666") == "(010) 8888 6666"
    assert fax_sender_from("Fax received") == ""
    assert is_fax_file(b"II*\x00...") and is_fax_file(b"%PDF-1.4") and not is_fax_file(b"MZ\x90")


# --- the console upload ---------------------------------------------------------------------------


def upload(client, tiff, **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/channels/fax/upload/", {"file": SimpleUploadedFile("fax.tif", tiff, "image/tiff"),
                                                 **extra})


def test_upload_needs_sign_in(city, client, tiff):
    response = client.get("/channels/fax/upload/")
    assert response.status_code == 302 and "/console/login/" in response["Location"]
    assert upload(client, tiff).status_code == 302 and not Case.objects.exists()


def test_unit_staff_may_not_upload(city, client, tiff):
    client.force_login(city.users["street_handler"])
    assert client.get("/channels/fax/upload/").status_code == 403
    assert upload(client, tiff).status_code == 403 and not Case.objects.exists()


def test_account_without_staff_role_may_not_upload(city, client):
    from govcrm.organization.tests.factories import UserFactory

    client.force_login(UserFactory(username="visitor"))
    response = client.get("/channels/fax/upload/")
    assert response.status_code == 403 and "没有工作人员角色" in response.content.decode()


def test_analyst_may_not_upload(city, client):
    client.force_login(city.users["analyst"])
    assert client.get("/channels/fax/upload/").status_code == 403


def test_agent_uploads_a_fax_and_lands_on_the_case(city, tiff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(city.users["agent"])
    page = client.get("/channels/fax/upload/")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()
    assert upload(client, tiff).status_code == 403  # no CSRF token
    token = page.cookies["csrftoken"].value
    response = upload(client, tiff, csrfmiddlewaretoken=token, sender="010-8888 6666")
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/console/cases/{case.number}/"
    assert case.channel == "fax" and "路灯" in case.description


def test_upload_of_something_else_is_refused(city, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(city.users["agent"])
    response = client.post("/channels/fax/upload/", {"file": SimpleUploadedFile("a.txt", b"hello", "text/plain")})
    assert response.status_code == 422 and "TIFF" in response.content.decode()
    assert not Case.objects.exists()


# --- fax-to-mail, without the listener (see test_fax_mail.py for the real SMTP session) ---------


def gateway_mail(*files: tuple[str, bytes]) -> bytes:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Fax Gateway <fax@gateway.localhost>"
    msg["To"] = "12345@govcrm.localhost"
    msg["Subject"] = "Fax from 010-8888 6666"
    msg["Message-ID"] = "<two-faxes@gw>"
    msg.set_content("You have received a fax.")
    for name, data in files:
        msg.add_attachment(data, maintype="image", subtype="tiff", filename=name)
    return msg.as_bytes()


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_gateway_mail_keeps_the_readable_faxes(tiff):
    from govcrm.channels.email.actions import mail_receive

    outcome = mail_receive(gateway_mail(("broken.tif", b"II*\x00 broken"), ("fax.tif", tiff)))
    assert outcome.status == "fax" and len(outcome.case_numbers) == 1
    assert Interaction.objects.get().external_id == "<two-faxes@gw>#2"
    with pytest.raises(ValidationFailed):
        mail_receive(gateway_mail(("broken.tif", b"II*\x00 broken")).replace(b"two-faxes", b"one-broken"))
