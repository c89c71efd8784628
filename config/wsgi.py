"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
application = get_wsgi_application()

# Load jieba's dictionary now, not inside the first request (WeChat allows 5 seconds per reply).
from govcrm.cases.search import terms  # noqa: E402

terms("预热")
