"""/channels/wechat/: WeChat's own pushes replayed, signed and (in safe mode) encrypted as WeChat does."""

import socket
import time
from urllib.parse import urlencode

import httpx
import pytest
from wechatpy.crypto import WeChatCrypto

from govcrm.cases.models import Case, CaseEvent
from govcrm.channels.intake import UNCLASSIFIED
from govcrm.channels.models import Attachment, Interaction
from govcrm.citizens.models import Citizen, Identity

from .conftest import AES_KEY, URL, fixture, sign

pytestmark = pytest.mark.django_db

OPENID = "oX3k5t8Qp0aZ_1mYcV2nR7sLdE4w"


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if anything opens a network connection (WeChat's API included)."""

    def refuse(*args, **kwargs):
        raise AssertionError("network call inside the push request")

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# --- URL verification -----------------------------------------------------------------------------

def test_url_verification_returns_the_echo(plain_wechat, client):
    query = {**plain_wechat.query(), "echostr": "5837397520183549422"}
    response = client.get(f"{URL}?{urlencode(query)}")
    assert response.status_code == 200 and response.content == b"5837397520183549422"
    assert response["Content-Type"].startswith("text/plain")


def test_url_verification_in_safe_mode_checks_msg_signature_too(safe_wechat, client):
    query = {**safe_wechat.query(), "echostr": "5837397520183549422"}
    query["msg_signature"] = sign(safe_wechat.token, query["timestamp"], query["nonce"], query["echostr"])
    assert client.get(f"{URL}?{urlencode(query)}").content == b"5837397520183549422"
    query["msg_signature"] = "0" * 40
    assert client.get(f"{URL}?{urlencode(query)}").status_code == 403


def test_encrypted_echo_is_decrypted(safe_wechat, client):
    """WeCom style: only msg_signature, and the echo encrypted."""
    query = safe_wechat.query()
    envelope = safe_wechat.crypto().encrypt_message("8731129483", query["nonce"], query["timestamp"])
    from govcrm.channels.wechat.protocol import read_xml

    fields = read_xml(envelope)
    params = {"msg_signature": fields["MsgSignature"], "timestamp": query["timestamp"], "nonce": query["nonce"],
              "echostr": fields["Encrypt"]}
    assert client.get(f"{URL}?{urlencode(params)}").content == b"8731129483"


@pytest.mark.parametrize("change", ["signature", "timestamp", "stale", "token"])
def test_url_verification_refuses_a_bad_signature(plain_wechat, client, settings, change):
    query = {**plain_wechat.query(), "echostr": "42"}
    if change == "signature":
        query["signature"] = "0" * 40
    elif change == "timestamp":
        query["timestamp"] = str(int(query["timestamp"]) + 1)
    elif change == "stale":
        query = {**plain_wechat.query(timestamp=str(int(time.time()) - 3600)), "echostr": "42"}
    else:
        settings.GOVCRM_WECHAT_TOKEN = ""
    response = client.get(f"{URL}?{urlencode(query)}")
    assert response.status_code == 403 and b"42" not in response.content


# --- messages -------------------------------------------------------------------------------------

def test_text_opens_a_case_and_the_passive_reply_gives_its_number(city, wechat, no_network):
    reply = wechat.reply(wechat.push(fixture("text_zh.xml")))
    case = Case.objects.get()
    assert reply["MsgType"] == "text" and reply["ToUserName"] == OPENID and reply["FromUserName"] == "gh_2d6c84a7b3e1"
    assert reply["Content"] == f"已受理，工单号 {case.number}，查询码 {case.query_code}。"
    assert case.channel == "wechat" and case.category.code == UNCLASSIFIED and case.language == "zh-hans"
    assert case.description.startswith("和平里小区3号楼门口的路灯坏了")
    assert case.citizen.identities.get(kind="wechat").value == OPENID
    assert case.citizen.preferred_channel == "wechat"
    interaction = Interaction.objects.get()
    assert interaction.external_id == "24531847362910485" and interaction.case == case


def test_english_text_gets_an_english_reply(city, wechat):
    reply = wechat.reply(wechat.push(fixture("text_en.xml"), openid="oX3k5t1Bb7yW_9pLmN4qT2vHsK8e"))
    case = Case.objects.get()
    assert case.language == "en"
    assert reply["Content"] == f"Received. Case number {case.number}, query code {case.query_code}."


def test_a_retry_with_the_same_msgid_gets_the_same_reply_and_stores_nothing(city, wechat):
    first = wechat.reply(wechat.push(fixture("text_zh.xml")))
    again = wechat.reply(wechat.push(fixture("text_zh.xml")))
    third = wechat.reply(wechat.push(fixture("text_zh.xml")))
    assert first["Content"] == again["Content"] == third["Content"]
    assert Interaction.objects.count() == 1 and Case.objects.count() == 1


def test_text_then_image_make_one_case_with_two_interactions_and_the_photo_is_fetched_later(
        city, wechat, wechat_api, no_network, monkeypatch, django_capture_on_commit_callbacks):
    wechat.push(fixture("text_zh.xml"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reply = wechat.reply(wechat.push(fixture("image.xml")))
    case = Case.objects.get()
    assert reply["Content"] == f"已收到，已补充到工单 {case.number}（查询码 {case.query_code}）。"
    _text, image = case.interactions.order_by("id")
    assert image.content == "[图片]" and image.data["msg_type"] == "image"
    assert image.data["media_id"] == "Rk3vT9xQ2mZ7pL0aW5sN8yB1cD4eF6gH-IjKlMnOpQrStUvWxYz012345"
    assert image.data["pic_url"] == "http://mmbiz.qpic.cn/mmbiz_jpg/q3Xb7kLzR1aVx0wNf2PeYdHc9TgUiJs4/0"
    assert CaseEvent.objects.filter(case=case, action="note").count() == 1
    # Nothing was downloaded in the request: the fetch waits for the commit, then runs as a task.
    assert wechat_api.requests == [] and not Attachment.objects.exists()
    assert len(callbacks) == 1
    monkeypatch.undo()  # the network is allowed again, for the task
    from .wechat_server import png_bytes

    wechat_api.media[image.data["media_id"]] = (png_bytes(), "image/png")
    callbacks[0]()
    (photo,) = Attachment.objects.filter(interaction=image)
    assert photo.content_type == "image/png" and photo.size > 0
    assert ("GET", "/cgi-bin/media/get") in wechat_api.requests


def test_a_retried_image_is_not_fetched_twice(city, plain_wechat, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as first:
        plain_wechat.push(fixture("image.xml"))
    with django_capture_on_commit_callbacks(execute=False) as again:
        plain_wechat.push(fixture("image.xml"))
    assert len(first) == 1 and len(again) == 0


def test_voice_counts_by_its_recognition(city, wechat):
    reply = wechat.reply(wechat.push(fixture("voice.xml"), openid="oX3k5t2Gh6uI_3jKlP0oQ9wErT5y"))
    case = Case.objects.get()
    assert case.description == "楼上装修每天晚上十点以后还在施工，太吵了。"
    assert case.number in reply["Content"]
    assert Interaction.objects.get().data["format"] == "amr"


def test_voice_without_recognition(city, plain_wechat):
    xml = fixture("voice.xml")
    xml = xml[:xml.index("<Recognition>")] + xml[xml.index("</Recognition>") + len("</Recognition>"):]
    plain_wechat.push(xml)
    assert Case.objects.get().description == "[语音消息]"


def test_location_opens_a_case_at_that_place(city, wechat):
    wechat.push(fixture("location.xml"), openid="oX3k5t4Rt7yU_2iOpA5sD8fGhJ1k")
    case = Case.objects.get()
    assert (case.lat, case.lon) == (39.915119, 116.403963) and case.address == "东城区和平里东街12号"
    assert case.description == "[位置] 东城区和平里东街12号"


def test_location_joins_the_open_case(city, plain_wechat):
    plain_wechat.push(fixture("text_zh.xml"))
    plain_wechat.push(fixture("location.xml").replace("oX3k5t4Rt7yU_2iOpA5sD8fGhJ1k", OPENID))
    case = Case.objects.get()
    assert case.lat is None and case.interactions.count() == 2
    assert case.interactions.order_by("id").last().data["lat"] == 39.915119


# --- events ---------------------------------------------------------------------------------------

def test_subscribe_gets_the_welcome_and_no_case(city, wechat):
    reply = wechat.reply(wechat.push(fixture("subscribe.xml"), openid="oX3k5t9Zx1cV_4bNmQ6wE8rTyU0i"))
    assert "欢迎关注" in reply["Content"] and "Welcome to the 12345" in reply["Content"]
    interaction = Interaction.objects.get()
    assert interaction.case is None and interaction.data["event"] == "subscribe"
    assert interaction.external_id == "event:oX3k5t9Zx1cV_4bNmQ6wE8rTyU0i:1773576900:subscribe"
    assert interaction.citizen.identities.get().value == "oX3k5t9Zx1cV_4bNmQ6wE8rTyU0i"
    assert not Case.objects.exists()
    wechat.push(fixture("subscribe.xml"))  # retried by WeChat
    assert Interaction.objects.count() == 1


def test_unsubscribe_is_recorded_and_answered_success(city, wechat):
    wechat.push(fixture("subscribe.xml"))
    response = wechat.push(fixture("unsubscribe.xml"))
    assert response.status_code == 200 and response.content == b"success"
    assert Interaction.objects.count() == 2 and Citizen.objects.count() == 1


def test_menu_click_lists_the_open_cases(city, wechat):
    wechat.push(fixture("text_zh.xml"))
    reply = wechat.reply(wechat.push(fixture("click_my_cases.xml")))
    case = Case.objects.get()
    assert reply["Content"].startswith("您未办结的工单：") and case.number in reply["Content"]
    assert Interaction.objects.filter(case=None, data__event="click").count() == 1


def test_location_reports_are_not_stored(city, wechat):
    response = wechat.push(fixture("location_report.xml"))
    assert response.content == b"success" and not Interaction.objects.exists()


# --- refusals -------------------------------------------------------------------------------------

def test_a_bad_signature_is_refused_and_nothing_stored(city, wechat):
    response = wechat.push(fixture("text_zh.xml"), query={"signature": "f" * 40})
    assert response.status_code == 403
    assert not Interaction.objects.exists() and not Citizen.objects.exists()


def test_a_bad_msg_signature_is_refused(city, safe_wechat):
    response = safe_wechat.push(fixture("text_zh.xml"), query={"msg_signature": "0" * 40})
    assert response.status_code == 403 and not Interaction.objects.exists()


def test_a_push_encrypted_for_another_account_is_refused(city, safe_wechat, client):
    other = WeChatCrypto(safe_wechat.token, AES_KEY, "wx0000000000000000")
    query = safe_wechat.query()
    from govcrm.channels.wechat.protocol import read_xml

    envelope = read_xml(other.encrypt_message(fixture("text_zh.xml"), query["nonce"], query["timestamp"]))
    query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
    body = f"<xml><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    response = client.post(f"{URL}?{urlencode(query)}", data=body, content_type="text/xml")
    assert response.status_code == 403 and not Interaction.objects.exists()


def test_a_plain_push_in_safe_mode_is_refused(city, safe_wechat, client):
    response = client.post(f"{URL}?{urlencode(safe_wechat.query())}", data=fixture("text_zh.xml").encode(),
                           content_type="text/xml")
    assert response.status_code == 400 and not Interaction.objects.exists()


@pytest.mark.parametrize("name", ["xml_bomb.xml", "xxe.xml"])
def test_entities_are_refused(city, wechat, name):
    response = wechat.push(fixture(name))
    assert response.status_code == 400
    assert not Interaction.objects.exists() and not Identity.objects.exists()


@pytest.mark.parametrize("body", ["not xml at all", "<html><body>hi</body></html>",
                                  "<xml><MsgType>text</MsgType></xml>"])
def test_malformed_pushes_are_400(city, plain_wechat, body):
    assert plain_wechat.push(body).status_code == 400


def test_an_oversized_body_is_refused(city, plain_wechat):
    xml = fixture("text_zh.xml").replace("和平里", "和" * 30_000)
    assert plain_wechat.push(xml).status_code == 400 and not Interaction.objects.exists()


def test_other_methods_are_not_allowed(client):
    assert client.put(URL).status_code == 405
