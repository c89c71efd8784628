"""POST /channels/sms/inbound: real provider payloads replayed, signed as the providers sign them."""

import json

import pytest

from govcrm.cases.models import Case, CaseEvent
from govcrm.channels.intake import UNCLASSIFIED
from govcrm.channels.models import Interaction
from govcrm.channels.sms.actions import keyword_of
from govcrm.citizens.models import Citizen

from .conftest import payload

pytestmark = pytest.mark.django_db


def test_generic_message_opens_a_case_and_answers_its_number(city, post_generic):
    response = post_generic(payload("generic_inbound.json"))
    assert response.status_code == 200
    answer = response.json()
    case = Case.objects.get()
    assert answer == {"status": "ok", "case": case.number, "result": "new_case"}
    assert case.channel == "sms" and case.category.code == UNCLASSIFIED and case.language == "zh-hans"
    assert case.description == "和平街12号门口的路灯坏了三天，晚上很黑，请尽快修理。"
    citizen = case.citizen
    assert citizen.identities.get(kind="phone").value == "+8613800138000"
    assert citizen.preferred_channel == "sms"
    interaction = Interaction.objects.get()
    assert interaction.external_id == "gw-20260315-000481" and interaction.case == case
    assert interaction.data == {"provider": "generic", "from": "+8613800138000", "to": "12345",
                                "received_at": "2026-03-15T20:14:07+08:00"}


def test_a_retried_webhook_creates_nothing_and_gets_the_same_answer(city, post_generic):
    first = post_generic(payload("generic_inbound.json")).json()
    again = post_generic(payload("generic_inbound.json")).json()
    assert again == {**first, "result": "duplicate"}
    assert Case.objects.count() == 1 and Interaction.objects.count() == 1


def test_a_later_message_from_the_same_phone_joins_the_open_case(city, post_generic):
    first = post_generic(payload("generic_inbound.json")).json()
    second = post_generic(payload("generic_follow_up.json")).json()  # the number written without +86
    assert second == {"status": "ok", "case": first["case"], "result": "threaded"}
    case = Case.objects.get()
    assert case.interactions.count() == 2
    assert CaseEvent.objects.filter(case=case, action="note").count() == 1


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "nonsense"])
def test_a_bad_signature_is_refused_and_nothing_stored(city, post_generic, signature):
    response = post_generic(payload("generic_inbound.json"), signature=signature)
    assert response.status_code == 403
    assert not Interaction.objects.exists() and not Case.objects.exists() and not Citizen.objects.exists()


def test_a_body_changed_after_signing_is_refused(city, post_generic, settings):
    from govcrm.channels.sms.signatures import generic_signature

    body = payload("generic_inbound.json")
    signature = generic_signature(settings.GOVCRM_SMS_SECRET, body)
    response = post_generic(body.replace(b"12\xe5\x8f\xb7", b"99\xe5\x8f\xb7"), signature=signature)
    assert response.status_code == 403 and not Interaction.objects.exists()


def test_no_secret_configured_refuses_everything(city, post_generic, settings):
    settings.GOVCRM_SMS_SECRET = ""
    assert post_generic(payload("generic_inbound.json")).status_code == 403


def test_malformed_json_is_422(city, post_generic):
    response = post_generic(b'{"id": "x", "from": "+8613800138000"}')
    assert response.status_code == 422 and response.json()["status"] == "error"
    assert not Interaction.objects.exists()


def test_opt_out_then_in(city, post_generic):
    post_generic(payload("generic_inbound.json"))
    answer = post_generic(payload("generic_opt_out.json")).json()
    assert answer == {"status": "ok", "case": None, "result": "opted_out"}
    citizen = Citizen.objects.get()
    assert citizen.sms_opt_out
    assert Case.objects.count() == 1  # no case for the keyword, and it did not join the open one
    stored = Interaction.objects.get(external_id="gw-20260317-000105")
    assert stored.case is None and stored.citizen == citizen and stored.data["keyword"] == "opt_out"
    assert not CaseEvent.objects.filter(action="note").exists()

    assert post_generic(payload("generic_opt_in.json")).json()["result"] == "opted_in"
    assert not Citizen.objects.get().sms_opt_out
    # A late retry of the old STOP changes nothing.
    post_generic(payload("generic_opt_out.json"))
    assert not Citizen.objects.get().sms_opt_out


@pytest.mark.parametrize(("text", "expected"), [
    ("STOP", "out"), ("stop", "out"), (" Unsubscribe. ", "out"), ("退订", "out"), ("退订。", "out"), ("TD", "out"),
    ("n", "out"), ("START", "in"), ("订阅", "in"), ("stop the noise please", None), ("不要退订", None), ("", None),
])
def test_keywords(text, expected):
    assert keyword_of(text) == expected


def test_twilio_form_is_taken_and_answered_with_empty_twiml(city, post_twilio):
    response = post_twilio(payload("twilio_inbound.txt"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content == b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
    case = Case.objects.get()
    assert case.language == "en" and case.description == "Water main leaking on Anding Road near the school gate"
    assert case.citizen.identities.get(kind="phone").value == "+8613900139000"
    assert Interaction.objects.get().external_id == "SM3f5c1a8e2b4d6f8091a2b3c4d5e6f7a8"
    post_twilio(payload("twilio_inbound.txt"))  # Twilio retrying
    assert Case.objects.count() == 1 and Interaction.objects.count() == 1


def test_twilio_bad_signature_is_refused(city, post_twilio):
    response = post_twilio(payload("twilio_inbound.txt"), signature="RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert response.status_code == 403 and not Interaction.objects.exists()


def test_twilio_signature_covers_every_field(city, post_twilio, settings):
    from urllib.parse import parse_qsl

    from govcrm.channels.sms.signatures import twilio_signature

    body = payload("twilio_inbound.txt")
    signature = twilio_signature(settings.GOVCRM_SMS_SECRET, "http://testserver/channels/sms/inbound",
                                 parse_qsl(body.decode(), keep_blank_values=True))
    forged = body.replace(b"From=%2B8613900139000", b"From=%2B8613800138000")
    assert post_twilio(forged, signature=signature).status_code == 403


def test_twilio_stop_opts_out(city, post_twilio):
    post_twilio(payload("twilio_stop.txt"))
    assert Citizen.objects.get().sms_opt_out and not Case.objects.exists()


def test_twilio_mms_keeps_the_media_urls(city, post_twilio):
    post_twilio(payload("twilio_mms.txt"))
    interaction = Interaction.objects.get()
    assert interaction.content == "这是漏水的照片"
    assert interaction.data["media"] == [{
        "url": "https://api.twilio.com/2010-04-01/Accounts/AC8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d/Messages/"
               "MM1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f/Media/ME0a1b2c3d4e5f60718293a4b5c6d7e8f",
        "content_type": "image/jpeg"}]


def test_an_alphanumeric_sender_opens_an_anonymous_case(city, post_generic):
    body = json.dumps({"id": "a1", "from": "GOVTEST", "to": "12345", "text": "路灯不亮"}).encode()
    assert post_generic(body).json()["result"] == "new_case"
    assert Case.objects.get().citizen is None and Interaction.objects.get().data["from"] == "GOVTEST"


def test_an_empty_message_is_ignored(city, post_generic):
    body = json.dumps({"id": "e1", "from": "+8613800138000", "to": "12345", "text": "  "}).encode()
    assert post_generic(body).json() == {"status": "ok", "case": None, "result": "ignored"}
    assert not Interaction.objects.exists()


def test_get_is_not_allowed(client):
    assert client.get("/channels/sms/inbound").status_code == 405
