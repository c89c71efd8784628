"""Recording portal page views and searches: cheap on the request, written in bulk.

Rules:
- Only the citizen portal is recorded (URL namespaces in `PORTAL_NAMESPACES`), GET requests
  answered with an HTML page (not HTMX fragments, not redirects); the console, the API, the
  dashboards and static files never are.
- The visitor is `session_hash(address, user agent, day)`: HMAC-SHA256 under the day's salt
  (`models.DailySalt`, created at the first view of a local day, older ones deleted then). The
  address is used for that hash only and is never stored.
- A page is kept as its URL pattern; of its URL only whitelisted, non-personal parts are kept
  (`OBJECT_KWARGS`: an article id, a service code). The referrer is kept as the pattern of one
  of our pages, or as another site's host name; when it is one of the portal's search pages, the
  search's query goes along (`search_query`), so the warehouse can tell which result a search
  led to.
- Search queries are normalised (NFKC, case-folded, spaces collapsed) and scrubbed: e-mail
  addresses and runs of six or more digits (phone, ID and case numbers) become `[email]` and
  `[number]`, so a citizen typing their own number into a search box does not store it.
- Rows wait in a per-process buffer and are written with one bulk insert when `FLUSH_ROWS` rows
  have gathered (on the request that fills it) or every `FLUSH_SECONDS` (a daemon thread), and at
  exit. A crash (SIGKILL, power loss) loses at most the rows still in the buffer; a failed
  write drops its batch with a warning. A page view must never fail or noticeably slow a request:
  the request pays an append to a list (and, once per FLUSH_ROWS requests, the bulk insert).
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
import unicodedata
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.urls import Resolver404, resolve
from django.utils import timezone

from govcrm.common.network import client_address

from .models import DailySalt, PageView, PortalSearch

logger = logging.getLogger(__name__)

# The citizen-facing URL namespaces: the portal (/), help articles (/help/), the service catalogue.
PORTAL_NAMESPACES = frozenset({"portal", "help", "services"})
# URL parts kept with a page view: (namespace, URL keyword) -> the kind of object it names.
OBJECT_KWARGS = {("help", "article_id"): "article", ("services", "code"): "service",
                 ("services", "service_code"): "service"}
# The portal's search pages: a page reached from one of them carries that search's query.
SEARCH_ROUTES = frozenset({"help:search", "services:catalogue", "services:search", "services:index"})


def enabled() -> bool:
    return bool(getattr(settings, "GOVCRM_WEB_MINING", True))


# --- the visitor's session hash -----------------------------------------------------------------

_salts: dict[dt.date, bytes] = {}
_salt_lock = threading.Lock()


def salt_for(day: dt.date) -> bytes:
    """The day's salt (created on first use; salts of earlier days are deleted then)."""
    salt = _salts.get(day)
    if salt is not None:
        return salt
    with _salt_lock:
        if day not in _salts:
            try:
                with transaction.atomic():
                    row, created = DailySalt.objects.get_or_create(day=day,
                                                                  defaults={"salt": secrets.token_hex(32)})
            except IntegrityError:  # another process created it first
                row, created = DailySalt.objects.get(day=day), False
            if created:
                DailySalt.objects.filter(day__lt=day).delete()
            _salts.clear()  # a process keeps one day's salt only
            _salts[day] = bytes.fromhex(row.salt)
        return _salts[day]


def session_hash(address: str, user_agent: str, day: dt.date | None = None) -> str:
    day = day or timezone.localdate()
    return hmac.new(salt_for(day), f"{address}\x00{user_agent}".encode(), hashlib.sha256).hexdigest()[:32]


# --- search queries --------------------------------------------------------------------------------

_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
_NUMBER = re.compile(r"[+\d][\d\s\-]{4,}[\dXx]")


def normalise_query(query: str) -> str:
    text = unicodedata.normalize("NFKC", query or "")
    text = _EMAIL.sub("[email]", text)
    text = _NUMBER.sub(lambda m: "[number]" if sum(c.isdigit() for c in m.group()) >= 6 else m.group(), text)
    return " ".join(text.split()).casefold()[:100]


def note_search(request, *, kind: str, query: str, results: int) -> None:
    """Called by a portal search view: the search is recorded with the request's page view."""
    if request is None or not query.strip():
        return
    notes = getattr(request, "_webmining_searches", None)
    if notes is None:
        notes = request._webmining_searches = []
    notes.append((kind, query, int(results)))


# --- the buffer ------------------------------------------------------------------------------------

class Buffer:
    """Rows of this process not yet written; see the module's rules."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._views: list[PageView] = []
        self._searches: list[PortalSearch] = []
        self._thread_pid: int | None = None

    def __len__(self) -> int:
        return len(self._views) + len(self._searches)

    def add(self, view: PageView | None, searches: list[PortalSearch]) -> None:
        limit = int(getattr(settings, "GOVCRM_WEB_MINING_FLUSH_ROWS", 500))
        with self._lock:
            if view is not None:
                self._views.append(view)
            self._searches.extend(searches)
            full = len(self._views) + len(self._searches) >= limit
        self._ensure_thread()
        if full:
            self.flush()

    def take(self) -> tuple[list[PageView], list[PortalSearch]]:
        with self._lock:
            views, searches = self._views, self._searches
            self._views, self._searches = [], []
        return views, searches

    def flush(self) -> int:
        """Write what is buffered (one bulk insert per table); returns the rows written."""
        views, searches = self.take()
        if not views and not searches:
            return 0
        try:
            PageView.objects.bulk_create(views, batch_size=500)
            PortalSearch.objects.bulk_create(searches, batch_size=500)
        except Exception:
            logger.warning("web mining: %d page views and %d searches lost (write failed)", len(views),
                           len(searches), exc_info=True)
            return 0
        return len(views) + len(searches)

    def _ensure_thread(self) -> None:
        seconds = float(getattr(settings, "GOVCRM_WEB_MINING_FLUSH_SECONDS", 5))
        if seconds <= 0 or self._thread_pid == os.getpid():
            return
        with self._lock:
            if self._thread_pid == os.getpid():
                return
            self._thread_pid = os.getpid()  # after a fork, the child starts its own
        threading.Thread(target=self._run, args=(seconds,), name="webmining-flush", daemon=True).start()

    def _run(self, seconds: float) -> None:
        while True:
            time.sleep(seconds)
            if len(self):
                close_old_connections()
                self.flush()


BUFFER = Buffer()
atexit.register(BUFFER.flush)


# --- what a request becomes ------------------------------------------------------------------------

def _route(match) -> tuple[str, str]:
    return match.view_name or "", "/" + (match.route or "")


def _referrer(request) -> tuple[str, str, str]:
    """(pattern of our page, other site's host, the search query when it came from a portal search)."""
    raw = request.META.get("HTTP_REFERER", "")
    if not raw:
        return "", "", ""
    parts = urlsplit(raw[:2000])
    if parts.netloc and parts.netloc != request.get_host():
        return "", parts.hostname or "", ""
    try:
        match = resolve(parts.path or "/")
    except Resolver404:
        return "", "", ""
    name, pattern = _route(match)
    query = ""
    if name in SEARCH_ROUTES:
        query = normalise_query((parse_qs(parts.query).get("q") or [""])[0])
    return pattern[:200], "", query


def record(request, response, seconds: float) -> None:
    """Turn a portal request into a buffered page view (and its searches); see the rules."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace not in PORTAL_NAMESPACES:
        return
    if 300 <= response.status_code < 400 or getattr(request, "htmx", False):
        return
    if not response.get("Content-Type", "").startswith("text/html"):
        return
    now = timezone.now()
    session = session_hash(client_address(request), request.META.get("HTTP_USER_AGENT", "")[:500],
                           timezone.localdate(now))
    language = (getattr(request, "LANGUAGE_CODE", "") or "")[:8]
    name, pattern = _route(match)
    kind = ref = ""
    for key, value in match.kwargs.items():
        found = OBJECT_KWARGS.get((match.namespace, key))
        if found:
            kind, ref = found, str(value)[:64]
    referrer_path, referrer_site, search_query = _referrer(request)
    view = PageView(at=now, session=session, route=name[:64], path=pattern[:200], object_kind=kind, object_ref=ref,
                    referrer_path=referrer_path, referrer_site=referrer_site[:100], search_query=search_query,
                    language=language, status=response.status_code,
                    duration_ms=min(int(seconds * 1000), 2**31 - 1))
    searches = [PortalSearch(at=now, session=session, kind=kind_, query=normalise_query(query), results=results,
                             language=language)
                for kind_, query, results in getattr(request, "_webmining_searches", ())
                if normalise_query(query)]
    BUFFER.add(view, searches)


class PageViewMiddleware:
    """MIDDLEWARE entry (after SecurityMiddleware): times a GET and records it after the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "GET" or not enabled():
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        try:
            record(request, response, time.perf_counter() - started)
        except Exception:
            logger.warning("web mining: a page view was not recorded", exc_info=True)
        return response
