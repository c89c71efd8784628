"""Outgoing WeChat notifications for the outbox (`send(*, note, to) -> provider id`).

`WeChatBackend` sends the notification's text as a customer-service message to the follower's
openid (see `client.custom_send_text`). WeChat's API takes no message id of ours, so a send
retried after a crash between WeChat's answer and our commit could arrive twice; the outbox's
row lock keeps that window to the crash itself. Outside the 48-hour window after the follower's
last message WeChat refuses (45015) and the outbox retries, then gives up: such notifications
need a template message, which needs a template approved for the account.
"""

from __future__ import annotations

from .client import custom_send_text


class WeChatBackend:
    def send(self, *, note, to: str) -> str:
        custom_send_text(to, note.body)
        return f"wechat:{note.dedupe_key}"
