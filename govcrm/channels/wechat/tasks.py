"""Background work of the WeChat channel: downloading the photos followers send.

The push request only stores the MediaId (WeChat's 5-second limit); this task fetches the file.
It is safe to run twice, and retries network trouble and WeChat's "system busy" with back-off.
A media id WeChat no longer knows (40007: media are kept three days) is given up, and so marked.
`sweep_media` (periodic) fetches what is still missing when a task was lost (ADR 0012).
"""

from __future__ import annotations

import datetime as dt
import logging

import httpx
from django.utils import timezone
from django_tasks import task

from .actions import wechat_media_fetch, wechat_media_give_up, wechat_media_missing
from .client import WeChatApiError

logger = logging.getLogger(__name__)

# Minutes to wait before each retry (network error, HTTP 5xx, WeChat busy).
RETRY_MINUTES = (1, 5, 30)
TRANSIENT_ERRCODES = frozenset({-1, 45009})  # system busy; API call limit reached


def _fetch_or_give_up(interaction_id: int) -> str:
    """One attempt; a permanent failure is recorded and "failed" returned, a transient one raised."""
    try:
        return wechat_media_fetch(interaction_id=interaction_id)
    except ValueError as exc:  # an answer WeChat's API does not document: retrying will not help
        reason = str(exc)
    except WeChatApiError as exc:
        if exc.errcode in TRANSIENT_ERRCODES:
            raise
        reason = str(exc)
    logger.warning("WeChat media of interaction %s not fetched: %s", interaction_id, reason)
    wechat_media_give_up(interaction_id=interaction_id, reason=reason)
    return "failed"


@task()
def fetch_media(interaction_id: int, attempt: int = 1) -> str:
    try:
        return _fetch_or_give_up(interaction_id)
    except (httpx.HTTPError, WeChatApiError) as exc:
        if attempt > len(RETRY_MINUTES) or not fetch_media.get_backend().supports_defer:
            raise
        wait = dt.timedelta(minutes=RETRY_MINUTES[attempt - 1])
        logger.warning("WeChat media of interaction %s: %s; retrying in %s", interaction_id, exc, wait)
        fetch_media.using(run_after=timezone.now() + wait).enqueue(interaction_id, attempt + 1)
        return "retrying"


@task()
def sweep_media() -> int:
    """Fetch the photos whose task was lost or gave up on a transient error (the periodic job, ADR 0012).

    One attempt each; what fails for a transient reason is tried again at the next sweep, for as
    long as WeChat keeps the file. Returns how many photos were stored.
    """
    stored = 0
    for interaction_id in wechat_media_missing():
        try:
            stored += _fetch_or_give_up(interaction_id) == "stored"
        except (httpx.HTTPError, WeChatApiError) as exc:
            logger.warning("WeChat media of interaction %s: %s; next sweep", interaction_id, exc)
    return stored
