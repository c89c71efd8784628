"""Calls to WeChat's API, against a local server speaking its protocol: the access token, customer-
service messages for the notifications outbox, and the media download task."""

import datetime as dt

import pytest
from django.utils import timezone

from govcrm.cases.models import Case
from govcrm.cases.tests.factories import move
from govcrm.channels.models import Attachment, Interaction
from govcrm.channels.wechat import client
from govcrm.channels.wechat.backends import WeChatBackend
from govcrm.channels.wechat.client import WeChatApiError
from govcrm.channels.wechat.models import AccessToken
from govcrm.channels.wechat.tasks import fetch_media, sweep_media
from govcrm.notifications.actions import notification_send
from govcrm.notifications.models import Notification

from .conftest import fixture
from .wechat_server import png_bytes

pytestmark = pytest.mark.django_db

OPENID = "oX3k5t8Qp0aZ_1mYcV2nR7sLdE4w"


@pytest.fixture
def wechat_notes(settings):
    settings.GOVCRM_NOTIFY_BACKENDS = {**settings.GOVCRM_NOTIFY_BACKENDS,
                                       "wechat": "govcrm.channels.wechat.backends.WeChatBackend"}


def test_the_access_token_is_fetched_once_and_kept(wechat_api):
    assert client.access_token() == "ACCESS_TOKEN_1"
    assert client.access_token() == "ACCESS_TOKEN_1"
    assert wechat_api.tokens_issued == 1
    kept = AccessToken.objects.get()
    assert kept.appid == wechat_api.appid and kept.token == "ACCESS_TOKEN_1"


def test_an_expired_token_is_replaced(wechat_api):
    client.access_token()
    AccessToken.objects.update(expires_at="2000-01-01T00:00:00Z")
    assert client.access_token() == "ACCESS_TOKEN_2"


def test_a_wrong_secret_is_an_api_error(wechat_api, settings):
    settings.GOVCRM_WECHAT_APPSECRET = "wrong"
    with pytest.raises(WeChatApiError) as err:
        client.access_token()
    assert err.value.errcode == 40125 and not AccessToken.objects.exists()


def test_a_reply_to_a_wechat_case_reaches_the_follower(city, plain_wechat, wechat_api, wechat_notes):
    plain_wechat.push(fixture("text_zh.xml"))
    case = Case.objects.get()
    assert not Notification.objects.filter(case=case).exists()  # the passive reply acknowledged it
    d, s = city.actor("dispatcher"), city.actor("street_handler")
    move(d, case, "dispatch", unit="gov-d1s1")
    move(s, case, "accept")
    move(s, case, "reply", reply="路灯已于今日修复，感谢您的反映。")
    move(d, case, "review")  # the reply reaches the citizen once the centre has approved it
    notes = list(Notification.objects.filter(case=case, channel="wechat").order_by("id"))
    assert [n.kind for n in notes] == ["accepted", "replied"]
    for note in notes:
        assert notification_send(notification_id=note.pk) == "sent"
    assert [m["touser"] for m in wechat_api.sent] == [OPENID, OPENID]
    reply = wechat_api.sent[1]
    assert reply["msgtype"] == "text" and "路灯已于今日修复" in reply["text"]["content"]
    assert case.number in reply["text"]["content"]
    assert "路灯".encode() in reply["raw"]  # UTF-8 on the wire, not \u-escaped
    assert wechat_api.tokens_issued == 1  # one token for both messages
    assert Notification.objects.get(pk=notes[1].pk).provider_id == f"wechat:{notes[1].dedupe_key}"
    assert Interaction.objects.filter(direction="out", case=case).count() == 2


def test_a_token_wechat_no_longer_accepts_is_refreshed_and_the_send_repeated(wechat_api):
    client.access_token()
    wechat_api.retire_token()
    client.custom_send_text(OPENID, "您好")
    assert wechat_api.tokens_issued == 2 and [m["text"]["content"] for m in wechat_api.sent] == ["您好"]


def test_outside_the_48_hour_window_the_notification_is_skipped(city, plain_wechat, wechat_api, wechat_notes):
    plain_wechat.push(fixture("text_zh.xml"))
    case = Case.objects.get()
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    move(city.actor("street_handler"), case, "accept")
    wechat_api.silent.add(OPENID)
    note = Notification.objects.get(case=case, kind="accepted")
    assert notification_send(notification_id=note.pk) == "skipped"  # no retry can overcome 45015
    note.refresh_from_db()
    assert "45015" in note.last_error and note.attempts == 1


def test_backend_returns_our_id(wechat_api, city, plain_wechat):
    plain_wechat.push(fixture("text_zh.xml"))
    case = Case.objects.get()
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    move(city.actor("street_handler"), case, "accept")
    note = Notification.objects.get(case=case, kind="accepted")
    assert WeChatBackend().send(note=note, to=OPENID) == f"wechat:{note.dedupe_key}"


def _image_interaction(plain_wechat) -> Interaction:
    plain_wechat.push(fixture("image.xml"))
    return Interaction.objects.get(data__msg_type="image")


def test_the_media_task_stores_the_photo_once(city, plain_wechat, wechat_api):
    interaction = _image_interaction(plain_wechat)
    wechat_api.media[interaction.data["media_id"]] = (png_bytes(), "image/png")
    assert fetch_media.call(interaction.pk) == "stored"
    assert fetch_media.call(interaction.pk) == "done"
    assert Attachment.objects.filter(interaction=interaction).count() == 1
    assert [r for r in wechat_api.requests if r[1] == "/cgi-bin/media/get"] == [("GET", "/cgi-bin/media/get")]


def test_expired_media_is_given_up(city, plain_wechat, wechat_api):
    interaction = _image_interaction(plain_wechat)
    assert fetch_media.call(interaction.pk) == "failed"  # 40007: WeChat keeps media three days
    assert not Attachment.objects.exists()


def test_media_that_is_not_a_picture_is_dropped(city, plain_wechat, wechat_api):
    interaction = _image_interaction(plain_wechat)
    wechat_api.media[interaction.data["media_id"]] = (b"%PDF-1.4 not a photo", "image/jpeg")
    assert fetch_media.call(interaction.pk) == "refused" and not Attachment.objects.exists()


def test_wechat_unreachable_is_raised_for_a_retry(city, plain_wechat, settings):
    interaction = _image_interaction(plain_wechat)
    settings.GOVCRM_WECHAT_API_BASE = "http://127.0.0.1:9"  # discard port: connection refused
    settings.GOVCRM_WECHAT_APPID, settings.GOVCRM_WECHAT_APPSECRET = "wx5c8f3e2a1b9d7046", "secret"
    import httpx

    with pytest.raises(httpx.ConnectError):
        fetch_media.call(interaction.pk)  # the immediate test backend cannot defer; the database one retries


def _backdate(interaction: Interaction, minutes: int) -> None:
    Interaction.objects.filter(pk=interaction.pk).update(created_at=timezone.now() - dt.timedelta(minutes=minutes))


def test_the_sweep_fetches_a_photo_whose_task_was_lost(city, plain_wechat, wechat_api):
    interaction = _image_interaction(plain_wechat)  # the on-commit task never ran here: "lost"
    wechat_api.media[interaction.data["media_id"]] = (png_bytes(), "image/png")
    assert sweep_media.call() == 0  # too recent: its own task is still on it
    _backdate(interaction, 11)
    assert sweep_media.call() == 1
    assert Attachment.objects.filter(interaction=interaction).count() == 1
    assert sweep_media.call() == 0  # nothing left to fetch


def test_the_sweep_gives_up_for_good_and_skips_old_messages(city, plain_wechat, wechat_api):
    expired = _image_interaction(plain_wechat)  # no such media at WeChat: 40007
    _backdate(expired, 11)
    assert sweep_media.call() == 0
    expired.refresh_from_db()
    assert expired.data["media_error"]  # recorded: not asked again
    calls = len(wechat_api.requests)
    assert sweep_media.call() == 0 and len(wechat_api.requests) == calls
    Interaction.objects.filter(pk=expired.pk).update(data={k: v for k, v in expired.data.items() if k != "media_error"})
    _backdate(expired, 60 * 24 * 3 + 1)  # older than WeChat keeps media
    assert sweep_media.call() == 0 and len(wechat_api.requests) == calls
