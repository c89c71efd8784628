"""A department system's webhook receiver on 127.0.0.1, for the tests: real HTTP, real signature check.

It answers as it is told (`mode`): "ok" (204 after checking the signature), "fail" (500), or it is
stopped altogether (`stop()`: connection refused) and started again on the same port (`start()`).
Every request is kept with the answer it got. A receiver as docs/integration.md describes it: it
checks the signature and de-duplicates on the CloudEvents id.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from govcrm.integration.signing import BadSignature, verify


@dataclass
class Received:
    event: dict
    status: int
    signature_ok: bool
    headers: dict
    raw: bytes


class Receiver:
    def __init__(self, secret: str | list[str] = "", port: int = 0):
        self.secret = secret
        self.mode = "ok"
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = port
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/govcrm-events"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                signature_ok = False
                for secret in receiver.secret if isinstance(receiver.secret, list) else [receiver.secret]:
                    try:
                        verify(body, self.headers.get("X-GovCRM-Signature", ""), secret)
                        signature_ok = True
                    except BadSignature:
                        continue
                if receiver.mode == "fail":
                    status = 500
                elif not signature_ok or self.headers.get("Content-Type", "").split(";")[0] != \
                        "application/cloudevents+json":
                    status = 401
                else:
                    status = 204
                with receiver._lock:
                    receiver.requests.append(Received(json.loads(body), status, signature_ok, dict(self.headers), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening: the next deliveries meet a refused connection."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def acknowledged(self) -> list[dict]:
        """The events this receiver answered 2xx, in the order they came."""
        with self._lock:
            return [r.event for r in self.requests if 200 <= r.status < 300]

    def all(self) -> list[Received]:
        with self._lock:
            return list(self.requests)
