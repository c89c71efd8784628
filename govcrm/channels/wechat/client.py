"""The few WeChat server APIs GovCRM calls, at GOVCRM_WECHAT_API_BASE (https://api.weixin.qq.com).

- Access token: GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=… →
  `{"access_token", "expires_in"}`; kept in the database (`AccessToken`) until a minute before it
  expires, so that every process uses the same one. An answer "token invalid or expired"
  (40001, 40014, 42001) drops the kept token, fetches a new one and repeats the call once.
- Customer-service message (客服消息): POST /cgi-bin/message/custom/send?access_token=… with
  `{"touser", "msgtype": "text", "text": {"content"}}` as UTF-8 JSON (not \\u-escaped, which
  WeChat would show literally). WeChat allows it within 48 hours of the user's last message
  (errcode 45015 otherwise).
- Temporary media: GET /cgi-bin/media/get?access_token=…&media_id=… → the file's bytes, or a JSON
  error (40007: the media id is unknown or expired; media are kept three days).

Errors: `WeChatApiError` (WeChat answered an errcode), httpx's errors (network, HTTP status) and
ValueError (an answer that is not what the API documents).
These calls are made by tasks and the outbox, never inside the push request (5-second limit).
"""

from __future__ import annotations

import datetime as dt
import json

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from .models import AccessToken

TIMEOUT_SECONDS = 10
TOKEN_MARGIN = dt.timedelta(seconds=60)
TOKEN_INVALID = frozenset({40001, 40014, 42001})


class WeChatApiError(RuntimeError):
    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def _url(path: str) -> str:
    return settings.GOVCRM_WECHAT_API_BASE.rstrip("/") + path


def _raise_for_errcode(data: dict) -> None:
    code = data.get("errcode")
    if code not in (None, 0):
        raise WeChatApiError(int(code), str(data.get("errmsg", "")))


def _fetch_token() -> AccessToken:
    appid, secret = settings.GOVCRM_WECHAT_APPID, settings.GOVCRM_WECHAT_APPSECRET
    if not appid or not secret:
        raise ImproperlyConfigured("GOVCRM_WECHAT_APPID and GOVCRM_WECHAT_APPSECRET are needed to call WeChat")
    response = httpx.get(_url("/cgi-bin/token"), timeout=TIMEOUT_SECONDS,
                         params={"grant_type": "client_credential", "appid": appid, "secret": secret})
    response.raise_for_status()
    data = response.json()
    _raise_for_errcode(data)
    expires_at = timezone.now() + dt.timedelta(seconds=int(data.get("expires_in", 7200))) - TOKEN_MARGIN
    # No lock is held during the HTTP call: if two processes refresh at once, both tokens work for
    # a few minutes, and a token WeChat no longer accepts is replaced on its first refusal.
    row, _created = AccessToken.objects.update_or_create(
        appid=appid, defaults={"token": data["access_token"], "expires_at": expires_at})
    return row


def access_token(*, refresh: bool = False) -> str:
    """A valid access token, fetched only when the kept one is missing, expiring or refused."""
    if not refresh:
        kept = AccessToken.objects.filter(appid=settings.GOVCRM_WECHAT_APPID,
                                          expires_at__gt=timezone.now()).first()
        if kept is not None:
            return kept.token
    return _fetch_token().token


def _with_token(call):
    """Run `call(token)`; when WeChat refuses the token, refresh it and run it once more."""
    try:
        return call(access_token())
    except WeChatApiError as err:
        if err.errcode not in TOKEN_INVALID:
            raise
        AccessToken.objects.filter(appid=settings.GOVCRM_WECHAT_APPID).delete()
        return call(access_token(refresh=True))


def custom_send_text(openid: str, text: str) -> None:
    """Send a text customer-service message to a follower."""
    body = json.dumps({"touser": openid, "msgtype": "text", "text": {"content": text}},
                      ensure_ascii=False).encode()

    def call(token: str) -> None:
        response = httpx.post(_url("/cgi-bin/message/custom/send"), params={"access_token": token}, content=body,
                              headers={"Content-Type": "application/json; charset=utf-8"}, timeout=TIMEOUT_SECONDS)
        response.raise_for_status()
        _raise_for_errcode(response.json())

    _with_token(call)


def media_get(media_id: str) -> tuple[bytes, str]:
    """The bytes and content type of a temporary media file a follower sent."""

    def call(token: str) -> tuple[bytes, str]:
        # Streamed, and cut one byte past the upload limit: a huge file is never held whole, and
        # what comes back is refused by its size (channels/uploads.py).
        limit = settings.GOVCRM_MAX_UPLOAD_BYTES + 1
        with httpx.stream("GET", _url("/cgi-bin/media/get"), params={"access_token": token, "media_id": media_id},
                          timeout=TIMEOUT_SECONDS) as response:
            response.raise_for_status()
            ctype = response.headers.get("Content-Type", "")
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) >= limit:
                    break
        content = bytes(body[:limit])
        if "json" in ctype or "text/plain" in ctype or content.lstrip().startswith(b'{"errcode"'):
            _raise_for_errcode(json.loads(content))
            raise ValueError("WeChat answered the media request without a file")
        return content, ctype

    return _with_token(call)
