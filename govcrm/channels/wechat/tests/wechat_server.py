"""A local stand-in for WeChat's API servers (api.weixin.qq.com), speaking the same protocol.

- GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=… → {"access_token", "expires_in"}
  or {"errcode": 40013/40125, "errmsg"} for a wrong AppID or secret. Each call issues a new token
  and retires the previous one (WeChat keeps it a few minutes; here: at once, the harder case).
- POST /cgi-bin/message/custom/send?access_token=… with a JSON text message → {"errcode": 0} and
  the message is recorded; an unknown token gets 40001 "invalid credential"; an openid marked
  `silent` gets 45015 (outside the 48-hour window).
- GET /cgi-bin/media/get?access_token=…&media_id=… → the media file's bytes, or 40007.
Every request is recorded in `requests` as (method, path).
"""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from PIL import Image


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(out, "PNG")
    return out.getvalue()


class FakeWeChat:
    def __init__(self, appid: str, secret: str):
        self.appid, self.secret = appid, secret
        self.media: dict[str, tuple[bytes, str]] = {}
        self.sent: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.tokens_issued = 0
        self.current_token: str | None = None
        self.silent: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeWeChat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def retire_token(self) -> None:
        """WeChat invalidated the token (another client fetched a new one, or it expired early)."""
        self.current_token = None

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, data: dict) -> None:
                self._send(200, json.dumps(data).encode(), "application/json; encoding=utf-8")

            def _token_ok(self, query) -> bool:
                return fake.current_token is not None and query.get("access_token", [""])[0] == fake.current_token

            def do_GET(self):
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                with fake._lock:
                    fake.requests.append(("GET", url.path))
                    if url.path == "/cgi-bin/token":
                        if query.get("appid", [""])[0] != fake.appid:
                            return self._json({"errcode": 40013, "errmsg": "invalid appid"})
                        if query.get("secret", [""])[0] != fake.secret:
                            return self._json({"errcode": 40125, "errmsg": "invalid appsecret"})
                        fake.tokens_issued += 1
                        fake.current_token = f"ACCESS_TOKEN_{fake.tokens_issued}"
                        return self._json({"access_token": fake.current_token, "expires_in": 7200})
                    if url.path == "/cgi-bin/media/get":
                        if not self._token_ok(query):
                            return self._json({"errcode": 40001, "errmsg": "invalid credential"})
                        found = fake.media.get(query.get("media_id", [""])[0])
                        if found is None:
                            return self._json({"errcode": 40007, "errmsg": "invalid media_id"})
                        return self._send(200, found[0], found[1])
                return self._send(404, b"not found", "text/plain")

            def do_POST(self):
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake._lock:
                    fake.requests.append(("POST", url.path))
                    if url.path != "/cgi-bin/message/custom/send":
                        return self._send(404, b"not found", "text/plain")
                    if not self._token_ok(query):
                        return self._json({"errcode": 40001, "errmsg": "invalid credential"})
                    message = json.loads(body.decode("utf-8"))
                    if message.get("touser") in fake.silent:
                        return self._json({"errcode": 45015, "errmsg": "response out of time limit"})
                    fake.sent.append({**message, "raw": body})
                    return self._json({"errcode": 0, "errmsg": "ok"})

        return Handler
