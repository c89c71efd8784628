"""The WeChat Official Account push protocol: signatures, safe-mode AES, parsing, passive replies.

Rules (docs/… channel-protocols §3):
- Every request carries `signature` = SHA-1 of the sorted, concatenated token, timestamp and nonce;
  it is checked in constant time before anything else. An empty token never validates.
- A push whose timestamp is more than MAX_SKEW_SECONDS away from our clock is refused: in plain
  mode the signature does not cover the body, so a captured signature must not stay usable.
- Safe mode is on when GOVCRM_WECHAT_AES_KEY is set: the body's `Encrypt` is checked against
  `msg_signature` (SHA-1 of token, timestamp, nonce and Encrypt), then decrypted with
  wechatpy's WeChatCrypto, which also checks the AppID inside; replies are encrypted the same way.
- Untrusted XML is read only through defusedxml with DTDs, entities and external references
  forbidden (an XML bomb or XXE attempt is a 400), before wechatpy's parser sees it; bodies larger
  than MAX_BODY are refused.
- A push becomes a `Push` (our frozen dataclass); its natural key is the MsgId for messages and
  "event:FromUserName:CreateTime:Event" for events, which carry no MsgId.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from django.conf import settings
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

MAX_BODY = 64 * 1024
MAX_SKEW_SECONDS = 300


class BadRequest(Exception):
    """Malformed or dangerous input: answered 400."""


class BadSignature(Exception):
    """Not from WeChat (or not for our account): answered 403."""


def sign(*parts: str) -> str:
    """WeChat's signature: SHA-1 hex of the sorted parts joined without a separator."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def _same(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode())


def check_signature(params, *, now: float | None = None) -> None:
    """The query's `signature` over (token, timestamp, nonce), and a fresh timestamp."""
    token = settings.GOVCRM_WECHAT_TOKEN
    timestamp, nonce = params.get("timestamp", ""), params.get("nonce", "")
    if not token or not _same(sign(token, timestamp, nonce), params.get("signature")):
        raise BadSignature("signature")
    try:
        skew = abs((now or time.time()) - int(timestamp))
    except ValueError:
        raise BadSignature("timestamp") from None
    if skew > MAX_SKEW_SECONDS:
        raise BadSignature("stale timestamp")


def safe_mode() -> bool:
    return bool(settings.GOVCRM_WECHAT_AES_KEY)


def _crypto() -> WeChatCrypto:
    return WeChatCrypto(settings.GOVCRM_WECHAT_TOKEN, settings.GOVCRM_WECHAT_AES_KEY, settings.GOVCRM_WECHAT_APPID)


def verify_echo(params) -> str:
    """The answer to the URL verification GET: `echostr`, after the signatures are checked.

    The Official Account signs the echo with `signature` and sends it in clear, in safe mode too;
    when a `msg_signature` comes as well (WeCom style), it is checked over the echo, and an
    encrypted echo is decrypted.
    """
    echo = params.get("echostr", "")
    msg_signature = params.get("msg_signature")
    if params.get("signature") or not msg_signature:
        check_signature(params)
    if not msg_signature:
        return echo
    token, timestamp, nonce = settings.GOVCRM_WECHAT_TOKEN, params.get("timestamp", ""), params.get("nonce", "")
    if not safe_mode() or not _same(sign(token, timestamp, nonce, echo), msg_signature):
        raise BadSignature("msg_signature")
    if params.get("signature"):
        return echo
    try:
        return _crypto().decrypt_message({"Encrypt": echo}, msg_signature, timestamp, nonce)
    except InvalidAppIdException:
        raise BadSignature("appid") from None
    except Exception:  # any failure to decrypt: not an echo we can read
        raise BadRequest("echostr") from None


def read_xml(raw: bytes | str) -> dict[str, str]:
    """The fields of a WeChat `<xml>` document, parsed safely."""
    if len(raw) > MAX_BODY:
        raise BadRequest("too large")
    try:
        root = SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, SafeET.ParseError, ValueError):
        raise BadRequest("xml") from None
    if root.tag != "xml":
        raise BadRequest("root")
    return {child.tag: (child.text or "") for child in root}


def decrypt_body(fields: dict[str, str], params) -> str:
    """The plaintext XML of a safe-mode push, its `msg_signature` and AppID checked."""
    encrypt = fields.get("Encrypt")
    if not encrypt:
        raise BadRequest("Encrypt missing in safe mode")
    token, timestamp, nonce = settings.GOVCRM_WECHAT_TOKEN, params.get("timestamp", ""), params.get("nonce", "")
    msg_signature = params.get("msg_signature")
    if not _same(sign(token, timestamp, nonce, encrypt), msg_signature):
        raise BadSignature("msg_signature")
    try:
        return _crypto().decrypt_message({"Encrypt": encrypt}, msg_signature, timestamp, nonce)
    except InvalidAppIdException:
        raise BadSignature("appid") from None
    except Exception:  # wrong key or a corrupt ciphertext: unreadable
        raise BadRequest("Encrypt") from None


@dataclass(frozen=True)
class Push:
    """One message or event pushed by WeChat, with the fields GovCRM uses."""

    kind: str  # text, image, voice, video, shortvideo, location, link, event, or what WeChat sent
    openid: str
    account: str  # the Official Account's original id (gh_…)
    create_time: int
    msg_id: int | None = None
    content: str = ""
    media_id: str = ""
    pic_url: str = ""
    voice_format: str = ""
    recognition: str = ""
    lat: float | None = None
    lon: float | None = None
    scale: str = ""
    label: str = ""
    title: str = ""
    url: str = ""
    event: str = ""  # lower-case, as wechatpy dispatches (subscribe, unsubscribe, click, …)
    event_key: str = ""

    @property
    def natural_key(self) -> str:
        if self.msg_id:
            return str(self.msg_id)
        return f"event:{self.openid}:{self.create_time}:{self.event}"


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def parse_push(xml: str, fields: dict[str, str]) -> Push:
    """A Push from plaintext XML already read by `read_xml` (`fields`), through wechatpy's parser."""
    if not fields.get("FromUserName") or not fields.get("MsgType"):
        raise BadRequest("not a push")
    message = parse_message(xml)
    try:
        create_time = int(fields.get("CreateTime") or 0)
    except ValueError:
        raise BadRequest("CreateTime") from None
    kind = fields["MsgType"].lower()
    event = ""
    if kind == "event":
        event = (fields.get("Event") or "").lower()
    return Push(
        kind=kind, openid=message.source, account=message.target, create_time=create_time,
        msg_id=message.id or None, content=(fields.get("Content") or "").strip(), media_id=fields.get("MediaId", ""),
        pic_url=fields.get("PicUrl", ""), voice_format=fields.get("Format", ""),
        recognition=(fields.get("Recognition") or "").strip(), lat=_float(fields.get("Location_X")),
        lon=_float(fields.get("Location_Y")), scale=fields.get("Scale", ""), label=fields.get("Label", ""),
        title=fields.get("Title", ""), url=fields.get("Url", ""), event=event, event_key=fields.get("EventKey", ""),
    )


def render_reply(push: Push, text: str, params) -> str:
    """The passive text reply to `push`: XML, encrypted in safe mode."""
    xml = TextReply(source=push.account, target=push.openid, content=text).render()
    if not safe_mode():
        return xml
    return _crypto().encrypt_message(xml, params.get("nonce", ""), str(int(time.time())))
