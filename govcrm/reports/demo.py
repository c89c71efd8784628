"""Report subscriptions of the demo city (`govcrm demo`, so `make run`): the supervisor gets the
weekly and the monthly report in Chinese, the East District's manager the weekly one in English
(its district's figures), so that the worker mails them after the next Monday or 1st. With the
local settings' console e-mail backend the mails are written to the worker's output."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from .models import Subscription

DEMO_SUBSCRIPTIONS = (("supervisor", "weekly", "zh-hans"), ("supervisor", "monthly", "zh-hans"),
                      ("manager_d1", "weekly", "en"))


def demo_subscriptions_ensure() -> int:
    """Add the demo's subscriptions that are missing (for accounts that exist and have an e-mail
    address); returns how many were added."""
    users = {u.username: u for u in get_user_model().objects.filter(
        username__in={name for name, _k, _l in DEMO_SUBSCRIPTIONS}).exclude(email="")}
    added = 0
    for username, kind, language in DEMO_SUBSCRIPTIONS:
        if username in users:
            _sub, created = Subscription.objects.get_or_create(user=users[username], kind=kind,
                                                               defaults={"language": language})
            added += created
    return added
