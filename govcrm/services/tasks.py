from django_tasks import task

from .actions import application_timers_fire


@task()
def fire_application_timers() -> int:
    """Fire the process timers of applications past their legal limit (escalation); safe to run twice."""
    return application_timers_fire()
