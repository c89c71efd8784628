"""One intake for every channel: idempotent, threaded, on the citizen's timeline."""

import io

import pytest
from PIL import Image

from govcrm.cases.models import Case, CaseEvent
from govcrm.channels.intake import UNCLASSIFIED, IntakeMessage, intake_receive
from govcrm.channels.models import Attachment, Interaction
from govcrm.channels.uploads import clean_image
from govcrm.citizens.actions import citizen_input_clean
from govcrm.common.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def sms(text, msg_id, phone="13800138000", **kw):
    return IntakeMessage(channel="sms", text=text, external_id=msg_id, thread_to_open_case=True,
                         citizen=citizen_input_clean(phone=phone), **kw)


def test_new_message_opens_an_unclassified_case(city):
    result = intake_receive(sms("小区路灯坏了", "m1"))
    assert result.created and result.new_case
    case = result.case
    assert case.category.code == UNCLASSIFIED and case.channel == "sms"
    assert result.interaction.citizen == case.citizen


def test_retried_delivery_creates_nothing(city):
    first = intake_receive(sms("小区路灯坏了", "m1"))
    again = intake_receive(sms("小区路灯坏了", "m1"))
    assert not again.created and again.case == first.case
    assert Case.objects.count() == 1 and Interaction.objects.count() == 1


def test_follow_up_message_joins_the_open_case(city):
    first = intake_receive(sms("小区路灯坏了", "m1"))
    second = intake_receive(sms("还是没修好", "m2"))
    assert second.created and not second.new_case and second.case == first.case
    assert CaseEvent.objects.filter(case=first.case, action="note").count() == 1
    other = intake_receive(sms("我家停水了", "m3", phone="13900139000"))
    assert other.new_case and other.case != first.case


def test_explicit_case_number_threads(city):
    first = intake_receive(sms("小区路灯坏了", "m1"))
    mail = IntakeMessage(channel="email", text="补充照片", external_id="<x@y>", case_number=first.case.number,
                         citizen=citizen_input_clean(email="a@example.org"))
    assert intake_receive(mail).case == first.case


def test_event_without_case(city):
    result = intake_receive(IntakeMessage(channel="wechat", text="subscribe", external_id="o1:123",
                                          create_case=False, citizen=citizen_input_clean(wechat_openid="o1")))
    assert result.case is None and result.interaction.citizen is not None


def jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x010F] = "SecretPhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 0.0)}  # GPS latitude
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_photos_are_checked_by_content_and_stripped_of_exif(city):
    raw = jpeg_with_exif()
    assert b"SecretPhoneMaker" in raw
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825)  # the GPS position is there before
    clean = clean_image(raw, "IMG_0001.JPG")
    assert clean.content_type == "image/jpeg" and b"SecretPhoneMaker" not in clean.data
    assert not Image.open(io.BytesIO(clean.data)).getexif()
    result = intake_receive(sms("路灯照片", "m9", attachments=(clean,)))
    att = Attachment.objects.get(interaction=result.interaction)
    assert att.size == len(clean.data) and att.name == "IMG_0001.jpg"


def test_fake_image_is_refused():
    with pytest.raises(ValidationFailed):
        clean_image(b"<?php echo 'hi'; ?>", "photo.jpg")
    with pytest.raises(ValidationFailed):
        clean_image(b"\xff\xd8\xff\xe0 truncated", "photo.jpg")


def test_oversized_file_is_refused(settings):
    settings.GOVCRM_MAX_UPLOAD_BYTES = 100
    with pytest.raises(ValidationFailed):
        clean_image(jpeg_with_exif(), "big.jpg")


def test_case_from_a_channel_is_visible_in_the_api_with_its_interactions(city, api_client_for):
    result = intake_receive(sms("小区路灯坏了", "m1"))
    intake_receive(sms("还是没修好", "m2"))
    body = api_client_for("dispatcher").get(f"/api/v1/cases/{result.case.number}").json()
    assert body["channel"] == "sms"
    assert [i["content"] for i in body["interactions"]] == ["小区路灯坏了", "还是没修好"]
