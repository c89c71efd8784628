"""Settings shared by every deployment.

All configuration comes from environment variables. `local.py` gives safe defaults for
`make run` only; `production.py` refuses to start without the secrets.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# An empty GOVCRM_HOME counts as unset (it would otherwise put keys and data in the working directory).
GOVCRM_HOME = Path(os.environ.get("GOVCRM_HOME") or BASE_DIR / "var").resolve()

DEBUG = os.environ.get("GOVCRM_DEBUG", "") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("GOVCRM_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h]

INSTALLED_APPS = [
    # Django's admin, its default site writing every change to the audit log (govcrm/audit).
    "govcrm.audit.adminsite.AuditedAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    # Second sign-in factor of staff: TOTP apps and backup codes (govcrm/organization/twofactor.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "govcrm.common",
    "govcrm.audit",
    "govcrm.organization",
    "govcrm.citizens",
    "govcrm.cases",
    "govcrm.console",
    "govcrm.channels",
    "govcrm.channels.portal",
    "govcrm.channels.open311",
    "govcrm.channels.email",
    "govcrm.channels.sms",
    "govcrm.channels.wechat",
    "govcrm.channels.callcentre",
    "govcrm.channels.fax",
    "govcrm.notifications",
    "govcrm.intelligence",
    "govcrm.topics",
    "govcrm.incidents",
    "govcrm.mining",
    "govcrm.analytics",
    "govcrm.reports",
    "govcrm.webmining",
    "govcrm.knowledge",
    "govcrm.services",
    "govcrm.identity",
    "govcrm.integration",
    "govcrm.personal",
    "govcrm.demo",
]

MIDDLEWARE = [
    # First, so that a database outage met by any view is a clean 503 (govcrm/common/outage.py).
    "govcrm.common.outage.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Portal page views and searches, buffered and written in bulk (govcrm/webmining).
    "govcrm.webmining.recorder.PageViewMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "govcrm.channels.uploads.RequestBodyLimitMiddleware",  # 413 before an oversized body is read
    "govcrm.common.nulchars.RefuseNulMiddleware",  # a NUL in the URL or a JSON body: 400/422, never a 500
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "govcrm.audit.context.AuditContextMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "govcrm.console.twofactor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "govcrm.common.security.ContentSecurityPolicyMiddleware",
    "govcrm.common.ratelimit.RateLimitMiddleware",  # inside the header middlewares: a 429 page gets them
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "govcrm" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_from_env() -> dict:
    """DATABASE_URL selects the database; the default is an SQLite file under GOVCRM_HOME."""
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{GOVCRM_HOME / 'govcrm.sqlite3'}"
    db = dj_database_url.parse(url, conn_max_age=int(os.environ.get("GOVCRM_DB_CONN_MAX_AGE", "60")))
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the one writer; IMMEDIATE transactions take the write lock
        # up front, so concurrent writers queue on busy_timeout instead of failing to upgrade.
        db["CONN_MAX_AGE"] = 0 if os.environ.get("GOVCRM_SQLITE_NO_PERSIST") else db["CONN_MAX_AGE"]
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY;"
            ),
        }
    return db


DATABASES = {"default": database_from_env()}
# A PostgreSQL read replica for dashboards (govcrm/common/replica.py, docs/deploy.md); the test
# runner mirrors it onto "default".
if os.environ.get("GOVCRM_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["GOVCRM_REPLICA_URL"], conn_max_age=int(os.environ.get("GOVCRM_DB_CONN_MAX_AGE", "60")))
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["govcrm.common.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Username/password sign-in behind a lockout after repeated failures (govcrm/common/lockout.py).
AUTHENTICATION_BACKENDS = ["govcrm.common.lockout.LockoutModelBackend"]
LOGIN_URL = "/console/login/"
LOGIN_REDIRECT_URL = "/console/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "govcrm" / "locale"]
TIME_ZONE = os.environ.get("GOVCRM_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = GOVCRM_HOME / "static"
MEDIA_ROOT = GOVCRM_HOME / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Background work: Django's task API on one of two backends, chosen by the environment only
# (ADR 0003, ADR 0012). "database" (default): django-tasks-db, the queue in DATABASES["default"],
# run by `govcrm worker`. "rq": RQ on Redis at GOVCRM_REDIS_URL for the scaled deployment, run by
# any number of `govcrm worker` processes. The task code is the same for both.
GOVCRM_TASKS_BACKEND = os.environ.get("GOVCRM_TASKS_BACKEND", "database")
GOVCRM_REDIS_URL = os.environ.get("GOVCRM_REDIS_URL", "redis://127.0.0.1:6379/0")
if GOVCRM_TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "govcrm.common.jobs.DatabaseBackend"}}  # django-tasks-db's, see common/jobs.py
elif GOVCRM_TASKS_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    # A job that runs longer than DEFAULT_TIMEOUT seconds is killed (the classifier's batch jobs
    # are the longest). Jobs are lost if Redis is: every task is backed by a database sweep (ADR 0012).
    RQ_QUEUES = {"default": {"URL": GOVCRM_REDIS_URL, "DEFAULT_TIMEOUT": 1800}}
    RQ = {"JOB_CLASS": "django_tasks_rq.Job"}  # runs a job as the django-tasks Task it names
else:
    raise ImproperlyConfigured(f"GOVCRM_TASKS_BACKEND must be 'database' or 'rq', not {GOVCRM_TASKS_BACKEND!r}")

# One cache shared by all web processes (portal sign-in codes, throttles): files under
# GOVCRM_HOME on one machine; GOVCRM_CACHE=database for several machines (the table is created by
# `govcrm up` or `govcrm createcachetable`).
# GOVCRM_CACHE=redis uses Redis at GOVCRM_CACHE_URL (default: GOVCRM_REDIS_URL's server, database 1),
# the choice for the scaled deployment (atomic counters for rate limits and lockouts).
# The file cache culls a third of its entries at random past MAX_ENTRIES (Django's default is 300,
# which would forget rate-limit and lockout counters under a flood): kept at 20,000 entries.
_cache_kind = os.environ.get("GOVCRM_CACHE", "file")
if _cache_kind == "database":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "govcrm_cache",
                          "OPTIONS": {"MAX_ENTRIES": 100_000}}}
elif _cache_kind == "redis":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ.get("GOVCRM_CACHE_URL",
                                                     GOVCRM_REDIS_URL.rsplit("/", 1)[0] + "/1")}}
elif _cache_kind == "file":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(GOVCRM_HOME / "cache"), "OPTIONS": {"MAX_ENTRIES": 20_000}}}
else:
    raise ImproperlyConfigured(f"GOVCRM_CACHE must be 'file', 'database' or 'redis', not {_cache_kind!r}")

# Database sessions whose save keeps a database outage a 503 (govcrm/common/sessions.py).
SESSION_ENGINE = "govcrm.common.sessions"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # HTMX reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GOVCRM_LOG_LEVEL", "WARNING")},
}

# --- GovCRM's own settings -----------------------------------------------------------------
# Key material for field encryption and blind indexes of identity numbers. Both are derived
# from GOVCRM_FIELD_KEY with HKDF (see govcrm/citizens/crypto.py).
GOVCRM_FIELD_KEY = os.environ.get("GOVCRM_FIELD_KEY", "")
# Largest description accepted at intake, in characters.
GOVCRM_MAX_DESCRIPTION = int(os.environ.get("GOVCRM_MAX_DESCRIPTION", "5000"))
# Working hours of the units, local time, used by hour-based deadlines.
GOVCRM_WORKDAY_START = os.environ.get("GOVCRM_WORKDAY_START", "09:00")
GOVCRM_WORKDAY_END = os.environ.get("GOVCRM_WORKDAY_END", "17:00")
# Largest uploaded file (photo, attachment, fax), in bytes.
GOVCRM_MAX_UPLOAD_BYTES = int(os.environ.get("GOVCRM_MAX_UPLOAD_BYTES", str(10_000_000)))
# A message from a citizen with an open case younger than this many days joins that case
# (SMS, WeChat) instead of opening a new one.
GOVCRM_THREAD_DAYS = int(os.environ.get("GOVCRM_THREAD_DAYS", "7"))
# Peak-hour intake (ADR 0023): "on" answers a new request from the portal, Open311 (services of
# type batch) and the REST API (with `Prefer: respond-async`) as soon as it is kept as a receipt;
# the worker registers receipts in batches (govcrm/channels/receipts.py). Off: registered before
# the answer.
GOVCRM_INTAKE_RECEIPTS = os.environ.get("GOVCRM_INTAKE_RECEIPTS", "off").lower() in ("on", "1", "true", "yes")
# Notification senders per channel: "console" (log only, for `make run`) or a real backend.
GOVCRM_NOTIFY_BACKENDS = {
    "email": os.environ.get("GOVCRM_NOTIFY_EMAIL", "govcrm.notifications.backends.EmailBackend"),
    # Sends through GOVCRM_SMS_API_URL when set, else only logs (the `make run` default).
    "sms": os.environ.get("GOVCRM_NOTIFY_SMS", "govcrm.channels.sms.backends.SmsBackend"),
    "wechat": os.environ.get("GOVCRM_NOTIFY_WECHAT", "govcrm.notifications.backends.ConsoleBackend"),
}
GOVCRM_MAIL_FROM = os.environ.get("GOVCRM_MAIL_FROM", "12345@govcrm.localhost")
# A worker claims a notification for this long before sending it; if it dies meanwhile, the
# notification is due again when the lease ends (it must outlast the slowest provider call).
GOVCRM_NOTIFY_LEASE_SECONDS = int(os.environ.get("GOVCRM_NOTIFY_LEASE_SECONDS", "600"))
# Duplicate incidents (govcrm/incidents): open cases this recent and this near are proposed for merging.
GOVCRM_INCIDENT_WINDOW_DAYS = float(os.environ.get("GOVCRM_INCIDENT_WINDOW_DAYS", "7"))
GOVCRM_INCIDENT_RADIUS_M = float(os.environ.get("GOVCRM_INCIDENT_RADIUS_M", "500"))
# Process mining (govcrm/mining): at most this many cases per mined log (newest first; the page says so).
GOVCRM_MINING_MAX_CASES = int(os.environ.get("GOVCRM_MINING_MAX_CASES", "20000"))
# How often `govcrm worker` sweeps the outbox for due notifications (retries, lost enqueues).
GOVCRM_NOTIFY_SWEEP_SECONDS = int(os.environ.get("GOVCRM_NOTIFY_SWEEP_SECONDS", "60"))

# --- Channel interfaces (kept stable: they are checked from outside) ------------------------------
# Open311 GeoReport v2: the jurisdiction this endpoint serves.
GOVCRM_JURISDICTION = os.environ.get("GOVCRM_JURISDICTION", "govcrm.localhost")
# Channels whose cases the unauthenticated GET requests of Open311 may list (descriptions of
# phone calls often carry personal data, so only cases that came in through Open311 by default).
GOVCRM_OPEN311_PUBLIC_CHANNELS = tuple(
    c for c in os.environ.get("GOVCRM_OPEN311_PUBLIC_CHANNELS", "open311").split(",") if c
)
# E-mail: the listener's port and the addresses it accepts mail for (comma-separated).
GOVCRM_SMTP_HOST = os.environ.get("GOVCRM_SMTP_HOST", "127.0.0.1")
GOVCRM_SMTP_PORT = int(os.environ.get("GOVCRM_SMTP_PORT", "2525"))
GOVCRM_MAIL_INTAKE = os.environ.get("GOVCRM_MAIL_INTAKE", "12345@govcrm.localhost")
# Fax-to-mail: mail from these gateway addresses carries faxes (TIFF/PDF) to be read by OCR.
GOVCRM_FAX_GATEWAYS = [a for a in os.environ.get("GOVCRM_FAX_GATEWAYS", "fax@gateway.localhost").split(",") if a]
# Optional separate address the fax gateway sends to (besides GOVCRM_MAIL_INTAKE).
GOVCRM_FAX_INTAKE = os.environ.get("GOVCRM_FAX_INTAKE", "")
# Processes `govcrm up` starts beside the web server and the worker (the embedded default).
GOVCRM_UP_EXTRA_PROCESSES = [["mailserver"]]
# WeChat Official Account: token for URL verification and signatures; AES key (43 chars) turns on safe mode.
GOVCRM_WECHAT_TOKEN = os.environ.get("GOVCRM_WECHAT_TOKEN", "")
GOVCRM_WECHAT_APPID = os.environ.get("GOVCRM_WECHAT_APPID", "")
GOVCRM_WECHAT_AES_KEY = os.environ.get("GOVCRM_WECHAT_AES_KEY", "")
GOVCRM_WECHAT_APPSECRET = os.environ.get("GOVCRM_WECHAT_APPSECRET", "")
GOVCRM_WECHAT_API_BASE = os.environ.get("GOVCRM_WECHAT_API_BASE", "https://api.weixin.qq.com")
# Call centre (CTI) events and the SMS webhook: shared secrets of the PBX and the SMS provider.
GOVCRM_CTI_TOKEN = os.environ.get("GOVCRM_CTI_TOKEN", "")
GOVCRM_SMS_SECRET = os.environ.get("GOVCRM_SMS_SECRET", "")
# Outgoing SMS through the provider's HTTP API (the "http" backend); unset: console backend.
GOVCRM_SMS_API_URL = os.environ.get("GOVCRM_SMS_API_URL", "")
GOVCRM_SMS_SENDER = os.environ.get("GOVCRM_SMS_SENDER", "12345")
# Hours before a deadline at which a case counts as "due soon".
GOVCRM_DUE_SOON_HOURS = int(os.environ.get("GOVCRM_DUE_SOON_HOURS", "8"))
# The analytics warehouse (DuckDB file, govcrm/analytics); one writer process at a time.
GOVCRM_WAREHOUSE = Path(os.environ.get("GOVCRM_WAREHOUSE", GOVCRM_HOME / "warehouse" / "govcrm.duckdb"))

# --- Security (docs/security.md) ----------------------------------------------------------------
# The client's address comes from this header only when a reverse proxy of ours sets it (e.g.
# "X-Forwarded-For"), taking the entry GOVCRM_TRUSTED_PROXY_HOPS from the right; else the peer.
GOVCRM_CLIENT_ADDRESS_HEADER = os.environ.get("GOVCRM_CLIENT_ADDRESS_HEADER", "")
GOVCRM_TRUSTED_PROXY_HOPS = int(os.environ.get("GOVCRM_TRUSTED_PROXY_HOPS", "1"))
# Rate limits of the public endpoints (govcrm/common/ratelimit.py): "on", "off", or a factor
# scaling every limit ("10" = ten times as many requests). A load test from one address: "off".
GOVCRM_RATE_LIMITS = os.environ.get("GOVCRM_RATE_LIMITS", "on")
# Per-rule overrides, {"rule": (requests, seconds)}; the defaults are in ratelimit.DEFAULT_RULES.
GOVCRM_RATE_LIMIT_RULES: dict[str, tuple[int, int]] = {}
# Roles that must use the second sign-in factor (comma-separated, e.g. "admin,supervisor"); empty:
# optional for everyone. The issuer is the name authenticator apps show.
GOVCRM_2FA_REQUIRED_ROLES = [r for r in os.environ.get("GOVCRM_2FA_REQUIRED_ROLES", "").split(",") if r.strip()]
OTP_TOTP_ISSUER = os.environ.get("GOVCRM_2FA_ISSUER", "GovCRM")
# Data retention (govcrm/cases/retention.py): personal data of cases closed longer than this many
# days is removed by `govcrm retention apply` and daily by the worker; 0 turns it off.
GOVCRM_RETENTION_DAYS = int(os.environ.get("GOVCRM_RETENTION_DAYS", str(3 * 365)))
# Portal page views (govcrm/webmining/actions.py) older than this many days are deleted by the same
# job; the warehouse keeps their statistics. 0 keeps them all.
GOVCRM_WEB_MINING_RETENTION_DAYS = int(os.environ.get("GOVCRM_WEB_MINING_RETENTION_DAYS", "400"))
# At most this many files in one request (govcrm/channels/uploads.py keeps 5 per request).
DATA_UPLOAD_MAX_NUMBER_FILES = 10
