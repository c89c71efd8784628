"""Outgoing WeChat notifications for the outbox (`send(*, note, to) -> provider id`).

`WeChatBackend` sends the notification's text as a customer-service message to the follower's
openid (see `client.custom_send_text`). WeChat's API takes no message id of ours, so a send
retried after a crash between WeChat's answer and our commit could arrive twice; the outbox's
row lock keeps that window to the crash itself. Outside the 48-hour window after the follower's
last message WeChat refuses (45015) and the outbox marks the notification skipped: reaching the
citizen then needs a template message, which needs a template approved for the account.
"""

from __future__ import annotations

from govcrm.notifications.backends import Undeliverable

from .client import WeChatApiError, custom_send_text

# Refusals that no retry can overcome: outside the 48-hour window (45015), the follower
# unsubscribed (43004). The outbox marks such notifications skipped.
PERMANENT = frozenset({45015, 43004})


class WeChatBackend:
    def send(self, *, note, to: str) -> str:
        try:
            custom_send_text(to, note.body)
        except WeChatApiError as err:
            if err.errcode in PERMANENT:
                raise Undeliverable(str(err)) from err
            raise
        return f"wechat:{note.dedupe_key}"
