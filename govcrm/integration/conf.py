"""Settings of webhook delivery, each overridable in Django settings or the environment.

GOVCRM_WEBHOOK_MAX_ATTEMPTS      attempts before a delivery is dead (10)
GOVCRM_WEBHOOK_RETRY_BASE        seconds before the first retry; doubled each time (30)
GOVCRM_WEBHOOK_RETRY_CAP         longest wait between two attempts, seconds (21600 = 6 h)
GOVCRM_WEBHOOK_TIMEOUT           HTTP timeout of one attempt, seconds (10)
GOVCRM_WEBHOOK_LEASE             seconds a claimed delivery is not due again (60, > the timeout)
GOVCRM_WEBHOOK_SECRET_GRACE      hours a rotated-out secret still signs (24)
GOVCRM_WEBHOOK_SWEEP_SECONDS     period of the worker's sweep (30)
"""

from __future__ import annotations

import os

from django.conf import settings

DEFAULTS = {
    "GOVCRM_WEBHOOK_MAX_ATTEMPTS": 10,
    "GOVCRM_WEBHOOK_RETRY_BASE": 30,
    "GOVCRM_WEBHOOK_RETRY_CAP": 21600,
    "GOVCRM_WEBHOOK_TIMEOUT": 10,
    "GOVCRM_WEBHOOK_LEASE": 60,
    "GOVCRM_WEBHOOK_SECRET_GRACE": 24,
    "GOVCRM_WEBHOOK_SWEEP_SECONDS": 30,
}


def get(name: str) -> int:
    """Django settings first (tests override there), then the environment, then the default."""
    if hasattr(settings, name):
        return int(getattr(settings, name))
    return int(os.environ.get(name, DEFAULTS[name]))
