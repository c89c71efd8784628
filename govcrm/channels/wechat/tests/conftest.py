"""WeChat as the tests see it: pushes signed (and in safe mode encrypted) as WeChat's servers do,
with wechatpy on the client side, the sample pushes in ../fixtures/, and a local WeChat API."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from govcrm.channels.wechat.protocol import read_xml

from .wechat_server import FakeWeChat

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
URL = "/channels/wechat/"
APPID = "wx5c8f3e2a1b9d7046"
SECRET = "b7e1f4c2a9d83e56f0c1a2b3d4e5f607"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues them


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


class WeChatServer:
    """Sends pushes to our endpoint the way WeChat does, and reads our passive replies."""

    def __init__(self, client, *, safe: bool):
        self.client = client
        self.safe = safe

    @property
    def token(self) -> str:
        return settings.GOVCRM_WECHAT_TOKEN

    def crypto(self) -> WeChatCrypto:
        return WeChatCrypto(self.token, AES_KEY, APPID)

    def query(self, *, timestamp: str | None = None, nonce: str | None = None) -> dict[str, str]:
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))
        return {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}

    def push(self, xml: str, *, query: dict | None = None, openid: str = "oX3k5t8Qp0aZ_1mYcV2nR7sLdE4w"):
        params = {**self.query(), "openid": openid}
        body = xml
        if self.safe:
            envelope = read_xml(self.crypto().encrypt_message(xml, params["nonce"], params["timestamp"]))
            params.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
            body = f"<xml><ToUserName><![CDATA[gh_2d6c84a7b3e1]]></ToUserName>" \
                   f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
        params.update(query or {})  # a test changing what WeChat sent
        return self.client.post(f"{URL}?{urlencode(params)}", data=body.encode("utf-8"), content_type="text/xml")

    def reply(self, response) -> dict[str, str]:
        """The fields of our passive reply (decrypted and its signature checked in safe mode)."""
        assert response.status_code == 200, response.content
        fields = read_xml(response.content)
        if not self.safe:
            return fields
        assert set(fields) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
        plain = self.crypto().decrypt_message(response.content.decode(), fields["MsgSignature"],
                                              fields["TimeStamp"], fields["Nonce"])
        return read_xml(plain)


@pytest.fixture(params=["plain", "safe"])
def wechat(request, client, settings):
    """Each test using it runs twice: plain mode, and safe mode with AES."""
    settings.GOVCRM_WECHAT_APPID = APPID
    settings.GOVCRM_WECHAT_AES_KEY = AES_KEY if request.param == "safe" else ""
    return WeChatServer(client, safe=request.param == "safe")


@pytest.fixture
def plain_wechat(client, settings):
    settings.GOVCRM_WECHAT_APPID = APPID
    settings.GOVCRM_WECHAT_AES_KEY = ""
    return WeChatServer(client, safe=False)


@pytest.fixture
def safe_wechat(client, settings):
    settings.GOVCRM_WECHAT_APPID = APPID
    settings.GOVCRM_WECHAT_AES_KEY = AES_KEY
    return WeChatServer(client, safe=True)


@pytest.fixture
def wechat_api(settings):
    """WeChat's API servers on 127.0.0.1, with the account's AppID and secret configured."""
    fake = FakeWeChat(APPID, SECRET).start()
    settings.GOVCRM_WECHAT_API_BASE = fake.base
    settings.GOVCRM_WECHAT_APPID = APPID
    settings.GOVCRM_WECHAT_APPSECRET = SECRET
    yield fake
    fake.stop()
