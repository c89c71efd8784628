"""Background job of the scheduled reports (the worker's PERIODIC schedule): mail what is due.
Safe to run twice and from several workers (a mailing is claimed by its unique Delivery row)."""

import logging

from django_tasks import task

from .actions import reports_send_due

logger = logging.getLogger(__name__)


@task()
def send_due_reports() -> int:
    """Mail the weekly and monthly reports due to their subscribers; returns the number sent."""
    result = reports_send_due()
    if result.waiting:
        logger.info("warehouse busy; scheduled reports wait for the next round")
    if result.failed:
        logger.warning("%s report mailing(s) failed and will be retried: %s", result.failed, result.errors[:3])
    return result.sent
