"""Background work of the e-mail channel: the acknowledgement of a new case."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

from django.utils import timezone
from django_tasks import task

from .actions import acknowledgement_send, acknowledgement_sweep

logger = logging.getLogger(__name__)

# Minutes to wait before each retry of a failed send (the mail server down, a network error).
RETRY_MINUTES = (1, 5, 30, 120)


@task()
def send_acknowledgement(interaction_id: int, attempt: int = 1) -> str:
    try:
        return acknowledgement_send(interaction_id=interaction_id)
    except (smtplib.SMTPException, OSError) as exc:
        if attempt > len(RETRY_MINUTES) or not send_acknowledgement.get_backend().supports_defer:
            raise
        wait = dt.timedelta(minutes=RETRY_MINUTES[attempt - 1])
        logger.warning("acknowledgement of interaction %s failed (%s); retrying in %s", interaction_id, exc, wait)
        send_acknowledgement.using(run_after=timezone.now() + wait).enqueue(interaction_id, attempt + 1)
        return "retrying"


@task()
def sweep_acknowledgements() -> int:
    """Send the acknowledgements whose task was lost (the periodic job, ADR 0012)."""
    return acknowledgement_sweep()
