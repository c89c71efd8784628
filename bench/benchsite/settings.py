"""The `make run` settings plus the bench URLs (config/urls.py stays untouched)."""

from config.settings.local import *  # noqa: F403

ROOT_URLCONF = "bench.benchsite.urls"
