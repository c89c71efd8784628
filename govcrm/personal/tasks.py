"""Background work of personalised service (run by `govcrm worker`, see PERIODIC there)."""

from django_tasks import task

from .actions import reminders_queue


@task()
def queue_reminders() -> int:
    """Daily: reminders due today into the notifications outbox (once each; safe to run twice)."""
    return reminders_queue()
