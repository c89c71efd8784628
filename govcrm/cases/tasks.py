"""Background jobs of the case process. Each takes ids or nothing and is safe to run twice."""

from django_tasks import task

from .actions import case_check_deadlines


@task()
def check_deadlines() -> int:
    """Raise supervision on overdue cases (the periodic deadline check)."""
    return case_check_deadlines()


@task()
def apply_retention() -> int:
    """Anonymise the cases closed longer than the retention period (daily; see cases/retention.py) and
    delete old portal page views (webmining/actions.py). Returns the number of cases anonymised."""
    from govcrm.webmining.actions import page_views_prune

    from .retention import retention_apply

    cases = retention_apply().cases
    page_views_prune()
    return cases
