"""Settings for the test suite: same code paths, faster password hashing, fixed keys."""

from .base import *  # noqa: F403
from .base import DATABASES

SECRET_KEY = "test-secret-key-not-for-production"
GOVCRM_FIELD_KEY = "test-field-key-not-for-production"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; argon2 is tested apart
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DATABASES["default"]["CONN_MAX_AGE"] = 0
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True  # no collectstatic before tests
GOVCRM_WECHAT_TOKEN = "test-wechat-token"
GOVCRM_CTI_TOKEN = "test-cti-token"
GOVCRM_SMS_SECRET = "test-sms-secret"
# No rate limits in the suite (many requests from one address); govcrm/common/tests/test_ratelimit.py
# turns them on.
GOVCRM_RATE_LIMITS = "off"
# Portal web mining off in the suite (a process-wide buffer would carry rows from test to test);
# govcrm/webmining/tests turn it on.
GOVCRM_WEB_MINING = False
