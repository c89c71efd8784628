"""Production: every secret from the environment; refuses to start without them."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production")
    return value


SECRET_KEY = _required("DJANGO_SECRET_KEY")
GOVCRM_FIELD_KEY = _required("GOVCRM_FIELD_KEY")
DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind the reverse proxy: providers (Twilio) sign the public URL, which Django must rebuild.
USE_X_FORWARDED_HOST = True
if os.environ.get("GOVCRM_WECHAT_APPID") and "GOVCRM_NOTIFY_WECHAT" not in os.environ:
    GOVCRM_NOTIFY_BACKENDS = {**GOVCRM_NOTIFY_BACKENDS, "wechat": "govcrm.channels.wechat.backends.WeChatBackend"}  # noqa: F405
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("GOVCRM_HSTS_SECONDS", "31536000"))
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
