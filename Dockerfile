# GovCRM image: one image for every role of the scaled deployment (web, worker, mail listener,
# one-off commands); the role is the command. See docs/deploy.md and compose.yaml.
FROM python:3.11-slim-bookworm

# Tesseract with the Simplified Chinese model and pdftoppm: fax OCR (channels/fax).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-chi-sim poppler-utils \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    GOVCRM_HOME=/var/lib/govcrm

WORKDIR /app
# The pinned dependencies first, so that a code change does not reinstall them.
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY pyproject.toml README.md ./
COPY config ./config
COPY govcrm ./govcrm
RUN pip install --no-deps . \
 && useradd --system --home-dir /var/lib/govcrm --shell /usr/sbin/nologin govcrm \
 && mkdir -p /var/lib/govcrm \
 && chown govcrm:govcrm /var/lib/govcrm

USER govcrm
VOLUME ["/var/lib/govcrm"]
EXPOSE 8000
# Web by default; the worker and the mail listener override the command (compose.yaml).
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", \
     "--access-logfile", "-"]
