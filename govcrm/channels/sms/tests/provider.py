"""A local SMS provider speaking the gateway protocol `HttpSmsBackend` uses, for the tests.

POST /messages with a JSON body `{"to", "from", "text", "client_ref"}` signed with
`X-GovCRM-Signature: sha256=<HMAC-SHA256 of the body>`: a bad signature is answered 401; a new
`client_ref` is "sent" (recorded) and answered `{"id": "msg-N", "status": "queued"}`; a repeated
`client_ref` is answered with the first message's id and sends nothing. `fail_next` makes the
next requests answer 503, as a provider in trouble does. `delay` (seconds) holds each answer
after the message is recorded, as a slow provider does: a sender killed meanwhile has sent it;
`answering` counts the answers being held.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SmsProvider:
    def __init__(self, secret: str):
        self.secret = secret
        self.messages: list[dict] = []  # what reached the handsets
        self.requests = 0
        self.fail_next = 0
        self.delay = 0.0
        self.answering = 0
        self._by_ref: dict[str, str] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/messages"

    def start(self) -> SmsProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet test output
                pass

            def _answer(self, status: int, data: dict) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with provider._lock:
                    provider.requests += 1
                    if provider.fail_next:
                        provider.fail_next -= 1
                        return self._answer(503, {"error": "try later"})
                    if self.path != "/messages":
                        return self._answer(404, {"error": "no such resource"})
                    expected = "sha256=" + hmac.new(provider.secret.encode(), body, hashlib.sha256).hexdigest()
                    if not hmac.compare_digest(expected, self.headers.get("X-GovCRM-Signature", "")):
                        return self._answer(401, {"error": "bad signature"})
                    data = json.loads(body)
                    ref = data["client_ref"]
                    if ref not in provider._by_ref:
                        provider._by_ref[ref] = f"msg-{len(provider.messages) + 1}"
                        provider.messages.append(data)
                    answer = {"id": provider._by_ref[ref], "status": "queued"}
                    provider.answering += 1
                try:
                    time.sleep(provider.delay)
                    return self._answer(200, answer)
                finally:
                    with provider._lock:
                        provider.answering -= 1

        return Handler
