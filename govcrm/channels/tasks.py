"""Background jobs of the channels: registering intake receipts (channels/receipts.py)."""

from django_tasks import task

from .receipts import BATCH, receipts_register, registrar_queue

MAX_BATCHES = 20  # one job registers at most this many batches (other jobs run between); the next one goes on


@task()
def register_receipts() -> int:
    """Register pending intake receipts, a batch per transaction, until none is left.

    Every receipt enqueues this job; most of them find the work done by an earlier one and
    return at once. Also the periodic sweep for receipts whose job was lost (ADR 0012).
    """
    total = 0
    for _batch in range(MAX_BATCHES):
        done, taken = receipts_register(BATCH)
        total += done
        if taken < BATCH:
            break
    else:  # stopped on a full batch: more are waiting, and no receipt may be left to the sweep alone
        registrar_queue()
    return total
