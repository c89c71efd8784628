"""Background jobs of the case process. Each takes ids or nothing and is safe to run twice."""

from django_tasks import task

from .actions import case_check_deadlines


@task()
def check_deadlines() -> int:
    """Raise supervision on overdue cases (the periodic deadline check)."""
    return case_check_deadlines()


@task()
def apply_retention() -> int:
    """Anonymise the cases closed longer than the retention period (daily; see cases/retention.py)."""
    from .retention import retention_apply

    return retention_apply().cases
