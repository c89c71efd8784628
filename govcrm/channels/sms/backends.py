"""Outgoing SMS for the notifications outbox (`send(*, note, to) -> provider id`).

- `HttpSmsBackend` posts `{"to", "from", "text", "client_ref"}` as JSON to GOVCRM_SMS_API_URL,
  signed like the inbound webhook (`X-GovCRM-Signature: sha256=<HMAC-SHA256 of the body>` with
  GOVCRM_SMS_SECRET), and returns the provider's message id from `{"id": …}`. `client_ref` is the
  notification's `dedupe_key`: the provider answers a repeated `client_ref` with the first
  message's id and sends nothing, so a send retried after a crash never reaches the citizen twice.
- `ConsoleSmsBackend` only logs the message (for `make run`).
- `SmsBackend` is the one to configure: HTTP when GOVCRM_SMS_API_URL is set, console otherwise.
- A citizen who opted out (`sms_opt_out`) is never sent an SMS, even by a notification queued
  before they opted out: the send fails with `SmsOptedOut`.
- Any HTTP error, timeout or malformed answer raises; the outbox retries with back-off.
"""

from __future__ import annotations

import json
import logging

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from govcrm.notifications.backends import Undeliverable

from .signatures import GENERIC_HEADER, generic_signature

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10


class SmsOptedOut(Undeliverable):
    """The citizen asked for no more SMS."""


def _check_opt_out(note) -> None:
    if getattr(note.citizen, "sms_opt_out", False):
        raise SmsOptedOut(f"citizen {note.citizen_id} opted out of SMS")


class HttpSmsBackend:
    def send(self, *, note, to: str) -> str:
        url = settings.GOVCRM_SMS_API_URL
        if not url:
            raise ImproperlyConfigured("GOVCRM_SMS_API_URL is not set")
        _check_opt_out(note)
        body = json.dumps({"to": to, "from": settings.GOVCRM_SMS_SENDER, "text": note.body,
                           "client_ref": note.dedupe_key}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8",
                   GENERIC_HEADER: generic_signature(settings.GOVCRM_SMS_SECRET, body)}
        response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
        response.raise_for_status()
        provider_id = response.json().get("id")
        if not provider_id:
            raise ValueError(f"SMS provider answered without a message id: {response.text[:200]}")
        return str(provider_id)


class ConsoleSmsBackend:
    def send(self, *, note, to: str) -> str:
        _check_opt_out(note)
        logger.warning("[sms to %s] %s", to, note.body)
        return f"console:{note.dedupe_key}"


class SmsBackend:
    """HTTP when GOVCRM_SMS_API_URL is set, console otherwise."""

    def send(self, *, note, to: str) -> str:
        backend = HttpSmsBackend() if settings.GOVCRM_SMS_API_URL else ConsoleSmsBackend()
        return backend.send(note=note, to=to)
