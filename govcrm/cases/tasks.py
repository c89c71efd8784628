"""Background jobs of the case process. Each takes ids or nothing and is safe to run twice."""

from django_tasks import task

from .actions import case_check_deadlines


@task()
def check_deadlines() -> int:
    """Raise supervision on overdue cases (the periodic deadline check)."""
    return case_check_deadlines()
