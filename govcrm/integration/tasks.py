"""Webhook delivery jobs: the task enqueued on commit, and the sweep `govcrm worker` runs periodically."""

from django_tasks import task

from .actions import webhooks_deliver, webhooks_sweep


@task()
def deliver_webhooks(ids: list[int]) -> int:
    return webhooks_deliver(ids=ids)


@task()
def sweep_webhooks() -> int:
    return webhooks_sweep()
