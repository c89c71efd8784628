from django_tasks import task

from .actions import notification_send, notification_sweep


@task()
def send_notification(notification_id: int) -> str:
    return notification_send(notification_id=notification_id)


@task()
def sweep_notifications() -> int:
    return notification_sweep()
