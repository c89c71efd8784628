"""Senders, one per channel, chosen in GOVCRM_NOTIFY_BACKENDS. Each returns the provider's id."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage

logger = logging.getLogger(__name__)


class Undeliverable(Exception):
    """The provider will never accept this message (opted out, unsubscribed…): do not retry."""


class ConsoleBackend:
    """Writes the message to the log: for `make run`, where no provider is configured."""

    def send(self, *, note, to: str) -> str:
        logger.warning("[%s to %s] %s\n%s", note.channel, to, note.subject, note.body)
        return f"console:{note.dedupe_key}"


class EmailBackend:
    """Through Django's mail backend (SMTP in production). The case number is in the subject."""

    def send(self, *, note, to: str) -> str:
        domain = settings.GOVCRM_MAIL_FROM.rpartition("@")[2] or "govcrm.localhost"
        message_id = f"<{note.dedupe_key.replace(':', '.')}@{domain}>"
        headers = {"Message-ID": message_id, "Auto-Submitted": "auto-generated"}
        if note.case_id:
            headers["X-GovCRM-Case"] = note.case.number
        if note.application_id:
            headers["X-GovCRM-Application"] = note.application.number
        mail = EmailMessage(subject=note.subject, body=note.body, from_email=settings.GOVCRM_MAIL_FROM, to=[to],
                            headers=headers)
        mail.send()
        return message_id
