"""Background jobs of hot topics. Safe to run twice (see `actions.topics_detect`)."""

from django_tasks import task

from .actions import topics_detect


@task()
def detect_topics() -> int:
    """Recompute the hot topics of the last 30 days and raise warnings (the periodic job)."""
    return topics_detect().pk
