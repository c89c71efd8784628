"""`make run`: the embedded default. Safe defaults for one machine only, never for production."""

import os
import secrets

from .base import *  # noqa: F403
from .base import GOVCRM_HOME

GOVCRM_HOME.mkdir(parents=True, exist_ok=True)


def _local_secret(name: str) -> str:
    """A random secret kept under GOVCRM_HOME, so that `make run` needs no configuration."""
    path = GOVCRM_HOME / f".{name}"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or _local_secret("secret_key")
GOVCRM_FIELD_KEY = os.environ.get("GOVCRM_FIELD_KEY") or _local_secret("field_key")
DEBUG = os.environ.get("GOVCRM_DEBUG", "") == "1"
EMAIL_BACKEND = os.environ.get("GOVCRM_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Demo secrets of the channel webhooks, so that they work out of the box; `govcrm up` prints them.
GOVCRM_WECHAT_TOKEN = os.environ.get("GOVCRM_WECHAT_TOKEN") or "govcrm-demo-wechat-token"
GOVCRM_CTI_TOKEN = os.environ.get("GOVCRM_CTI_TOKEN") or "govcrm-demo-cti-token"
GOVCRM_SMS_SECRET = os.environ.get("GOVCRM_SMS_SECRET") or "govcrm-demo-sms-secret"
