"""Factories of integration tests: subscribers made through the real action (secret encrypted)."""

from __future__ import annotations

from govcrm.integration.actions import subscriber_create
from govcrm.integration.models import Subscriber


def subscriber(url: str, *, name: str = "dept", event_types=(), unit=None, category=None) -> tuple[Subscriber, str]:
    return subscriber_create(name=name, url=url, event_types=event_types, unit=unit, category=category)
