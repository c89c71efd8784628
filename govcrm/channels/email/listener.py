"""The SMTP listener of `govcrm mailserver`: aiosmtpd's SMTP protocol on a plain asyncio server.

Rules:
- RCPT is accepted only for the intake addresses (`actions.intake_addresses`); any other
  recipient gets 550, so the listener is never an open relay.
- A message larger than MAX_MESSAGE_BYTES gets 552 (aiosmtpd's data size limit, also
  announced in EHLO as SIZE).
- DATA runs `mail_receive` in a worker thread (the ORM is synchronous), with Django's
  connection hygiene around it, and answers 250 only after the intake committed. A database
  error answers 451, so that the sending server keeps the message and retries; a message
  that can never be stored answers 550; anything unexpected is logged and answered 451.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

from aiosmtpd.smtp import SMTP
from django.db import DatabaseError, close_old_connections

from govcrm.common.errors import ValidationFailed

from . import actions

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 25_000_000
INTAKE_THREADS = 4


def _receive(raw: bytes, envelope_from: str | None) -> actions.MailOutcome:
    close_old_connections()
    try:
        return actions.mail_receive(raw, envelope_from=envelope_from)
    finally:
        close_old_connections()


def smtp_reply(outcome: actions.MailOutcome) -> str:
    numbers = ", ".join(outcome.case_numbers)
    if outcome.status == "new_case":
        return f"250 2.0.0 OK: case {numbers} opened"
    if outcome.status == "threaded":
        return f"250 2.0.0 OK: added to case {numbers}"
    if outcome.status == "fax":
        return f"250 2.0.0 OK: fax registered as case {numbers}"
    if outcome.status == "duplicate":
        return f"250 2.0.0 OK: already received{f' (case {numbers})' if numbers else ''}"
    if outcome.status == "stored":
        return f"250 2.0.0 OK: stored without a case ({outcome.reason})"
    return f"250 2.0.0 OK: not stored ({outcome.reason})"


class IntakeHandler:
    """aiosmtpd handler: RCPT checks the address, DATA stores the message through the intake."""

    def __init__(self, executor: ThreadPoolExecutor):
        self.executor = executor

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd hook
        if address.lower() not in actions.intake_addresses():
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        raw = envelope.original_content or b""
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(self.executor, _receive, raw, envelope.mail_from)
        except DatabaseError:
            logger.exception("e-mail from %s not stored: database error", envelope.mail_from)
            return "451 4.3.0 Temporary failure, please try again later"
        except ValidationFailed as err:
            logger.warning("e-mail from %s refused: %s", envelope.mail_from, err.message)
            fields = ",".join(err.details) or err.code
            return f"550 5.6.0 Message refused ({fields})"
        except Exception:  # a bug must not lose the message: the sender keeps it and retries
            logger.exception("e-mail from %s not stored: unexpected error", envelope.mail_from)
            return "451 4.3.0 Temporary failure, please try again later"
        return smtp_reply(outcome)


class MailListener:
    """The listener on (host, port); port 0 takes a free port, readable from `.port` once started.

    `serve_forever()` runs it in the calling thread until SIGINT/SIGTERM; `start()`/`stop()` run
    it in a background thread (tests, embedding).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, data_size_limit: int = MAX_MESSAGE_BYTES,
                 hostname: str | None = None):
        self.host = host
        self.port = port
        self.data_size_limit = data_size_limit
        self.hostname = hostname or actions.own_domain()
        self._executor = ThreadPoolExecutor(max_workers=INTAKE_THREADS, thread_name_prefix="mail-intake")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    async def _main(self, *, handle_signals: bool) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        handler = IntakeHandler(self._executor)

        def factory() -> SMTP:
            return SMTP(handler, data_size_limit=self.data_size_limit, enable_SMTPUTF8=True,
                        hostname=self.hostname, ident="GovCRM mail intake", loop=self._loop)

        try:
            server = await self._loop.create_server(factory, host=self.host, port=self.port)
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            raise
        self.port = server.sockets[0].getsockname()[1]
        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._loop.add_signal_handler(sig, self._stop.set)
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()
            await server.wait_closed()

    def serve_forever(self) -> None:
        try:
            asyncio.run(self._main(handle_signals=True))
        finally:
            self._executor.shutdown(wait=True)  # messages being stored are finished, not cut off

    def start(self) -> MailListener:
        def run() -> None:
            try:
                asyncio.run(self._main(handle_signals=False))
            except Exception:
                logger.exception("mail listener stopped")

        self._thread = threading.Thread(target=run, name="mail-listener", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
        self._executor.shutdown(wait=True)

    def __enter__(self) -> MailListener:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
