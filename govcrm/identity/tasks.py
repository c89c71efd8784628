"""Background job of identity resolution. Safe to run twice: a pair already proposed is skipped."""

from django_tasks import task

from .actions import match_run


@task()
def match_identities() -> int:
    """Score citizens and registry residents and store new proposals (the periodic job)."""
    return match_run().pk
