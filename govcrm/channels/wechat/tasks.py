"""Background work of the WeChat channel: downloading the photos followers send.

The push request only stores the MediaId (WeChat's 5-second limit); this task fetches the file.
It is safe to run twice, and retries network trouble and WeChat's "system busy" with back-off.
A media id WeChat no longer knows (40007: media are kept three days) is given up.
"""

from __future__ import annotations

import datetime as dt
import logging

import httpx
from django.utils import timezone
from django_tasks import task

from .actions import wechat_media_fetch
from .client import WeChatApiError

logger = logging.getLogger(__name__)

# Minutes to wait before each retry (network error, HTTP 5xx, WeChat busy).
RETRY_MINUTES = (1, 5, 30)
TRANSIENT_ERRCODES = frozenset({-1, 45009})  # system busy; API call limit reached


@task()
def fetch_media(interaction_id: int, attempt: int = 1) -> str:
    try:
        return wechat_media_fetch(interaction_id=interaction_id)
    except ValueError as exc:  # an answer WeChat's API does not document: retrying will not help
        logger.warning("WeChat media of interaction %s not fetched: %s", interaction_id, exc)
        return "failed"
    except (httpx.HTTPError, WeChatApiError) as exc:
        transient = not isinstance(exc, WeChatApiError) or exc.errcode in TRANSIENT_ERRCODES
        if not transient:
            logger.warning("WeChat media of interaction %s not fetched: %s", interaction_id, exc)
            return "failed"
        if attempt > len(RETRY_MINUTES) or not fetch_media.get_backend().supports_defer:
            raise
        wait = dt.timedelta(minutes=RETRY_MINUTES[attempt - 1])
        logger.warning("WeChat media of interaction %s: %s; retrying in %s", interaction_id, exc, wait)
        fetch_media.using(run_after=timezone.now() + wait).enqueue(interaction_id, attempt + 1)
        return "retrying"
