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
- The request pays for a tuple appended to a per-process buffer (a few microseconds): the
  hashing, the referrer's resolution and the scrubbing happen when the buffer is written, by a
  daemon thread every `FLUSH_SECONDS` or as soon as `FLUSH_ROWS` rows have gathered, and at exit;
  one multi-row INSERT per table. The raw address waits in memory for those few seconds and is
  never written. A crash (SIGKILL, power loss) loses the rows still in the buffer; a failed
  write drops its batch with a warning; a buffer that cannot be written (database down) stops
  taking rows at `MAX_ROWS_FACTOR` × FLUSH_ROWS. Recording never fails a request.
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
from django.db import IntegrityError, close_old_connections, connections, router, transaction
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

MAX_ROWS_FACTOR = 20
# A buffered page view: everything needed later, taken from the request as is (cheap).
# (at, address, user_agent, view_name, route, namespace, kwargs, referer, host, language, status,
#  duration_ms, searches)
Raw = tuple

_PV_COLUMNS = ("at", "session", "route", "path", "object_kind", "object_ref", "referrer_path", "referrer_site",
               "search_query", "language", "status", "duration_ms")
_PS_COLUMNS = ("at", "session", "kind", "query", "results", "language")


class Buffer:
    """Rows of this process not yet written; see the module's rules."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[Raw] = []
        self._wake = threading.Event()
        self._thread_pid: int | None = None
        self._resolved: dict[str, tuple[str, str]] = {}  # referrer path -> (view name, pattern)
        self._sessions: dict[tuple, str] = {}  # (address, agent, day) -> hash, for one batch

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, raw: Raw) -> None:
        limit = int(getattr(settings, "GOVCRM_WEB_MINING_FLUSH_ROWS", 500))
        with self._lock:
            if len(self._rows) >= limit * MAX_ROWS_FACTOR:
                return  # the writer is stuck (database down): drop rather than grow without bound
            self._rows.append(raw)
            full = len(self._rows) >= limit
        if self._ensure_thread():
            if full:
                self._wake.set()
        elif full:
            self.flush()

    def take(self) -> list[Raw]:
        with self._lock:
            rows, self._rows = self._rows, []
        return rows

    def flush(self) -> int:
        """Write what is buffered (one INSERT per table); returns the page views and searches written."""
        rows = self.take()
        if not rows:
            return 0
        try:
            views, searches = self._build(rows)
            with transaction.atomic():
                _insert(PageView, _PV_COLUMNS, views)
                _insert(PortalSearch, _PS_COLUMNS, searches)
        except Exception:
            logger.warning("web mining: %d page views lost (write failed)", len(rows), exc_info=True)
            return 0
        return len(views) + len(searches)

    def _build(self, rows: list[Raw]) -> tuple[list[tuple], list[tuple]]:
        views, searches = [], []
        self._sessions.clear()
        if len(self._resolved) > 5000:
            self._resolved.clear()
        for (at, address, agent, name, route, namespace, kwargs, referer, host, language, status, duration,
             noted) in rows:
            day = timezone.localdate(at)
            key = (address, agent, day)
            session = self._sessions.get(key)
            if session is None:
                session = self._sessions[key] = session_hash(address, agent, day)
            kind = ref = ""
            for k, v in kwargs.items():
                found = OBJECT_KWARGS.get((namespace, k))
                if found:
                    kind, ref = found, str(v)[:64]
            referrer_path, referrer_site, search_query = self._referrer(referer, host)
            views.append((at, session, name[:64], ("/" + route)[:200], kind, ref, referrer_path[:200],
                          referrer_site[:100], search_query, language, status, duration))
            for search_kind, query, results in noted:
                text = normalise_query(query)
                if text:
                    searches.append((at, session, search_kind, text, results, language))
        return views, searches

    def _referrer(self, raw: str, host: str) -> tuple[str, str, str]:
        """(pattern of our page, another site's host, the query when it came from a portal search)."""
        if not raw:
            return "", "", ""
        parts = urlsplit(raw[:2000])
        if parts.netloc and parts.netloc != host:
            return "", parts.hostname or "", ""
        path = parts.path or "/"
        found = self._resolved.get(path)
        if found is None:
            try:
                match = resolve(path)
                found = (match.view_name or "", "/" + (match.route or ""))
            except Resolver404:
                found = ("", "")
            self._resolved[path] = found
        name, pattern = found
        query = ""
        if name in SEARCH_ROUTES:
            query = normalise_query((parse_qs(parts.query).get("q") or [""])[0])
        return pattern, "", query

    def _ensure_thread(self) -> bool:
        seconds = float(getattr(settings, "GOVCRM_WEB_MINING_FLUSH_SECONDS", 5))
        if seconds <= 0:
            return False
        if self._thread_pid == os.getpid():
            return True
        with self._lock:
            if self._thread_pid != os.getpid():
                self._thread_pid = os.getpid()  # after a fork, the child starts its own
                threading.Thread(target=self._run, args=(seconds,), name="webmining-flush", daemon=True).start()
        return True

    def _run(self, seconds: float) -> None:
        while True:
            self._wake.wait(seconds)
            self._wake.clear()
            if len(self):
                close_old_connections()
                self.flush()


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """One multi-row INSERT per chunk, without building model instances."""
    if not rows:
        return
    conn = connections[router.db_for_write(model)]
    qn = conn.ops.quote_name
    fields = {f.column: f for f in model._meta.concrete_fields}
    # Names from the model's own metadata, values as parameters.
    head = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)}) VALUES "  # noqa: S608
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    prepared = [[fields[c].get_db_prep_value(v, conn) for c, v in zip(columns, row, strict=True)] for row in rows]
    chunk = max(1, 900 // len(columns))  # under SQLite's 999 parameters
    with conn.cursor() as cursor:
        for i in range(0, len(prepared), chunk):
            part = prepared[i:i + chunk]
            cursor.execute(head + ", ".join([one] * len(part)), [v for row in part for v in row])


BUFFER = Buffer()
atexit.register(BUFFER.flush)


# --- what a request becomes ------------------------------------------------------------------------

def record(request, response, seconds: float) -> None:
    """Buffer a portal request as a page view (with the searches its view noted); see the rules."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace not in PORTAL_NAMESPACES:
        return
    status = response.status_code
    if 300 <= status < 400 or "HTTP_HX_REQUEST" in request.META:
        return
    if not response.get("Content-Type", "").startswith("text/html"):
        return
    meta = request.META
    BUFFER.add((timezone.now(), client_address(request), meta.get("HTTP_USER_AGENT", "")[:500],
                match.view_name or "", match.route or "", match.namespace, match.kwargs,
                meta.get("HTTP_REFERER", ""), meta.get("HTTP_HOST") or meta.get("SERVER_NAME", ""),
                (getattr(request, "LANGUAGE_CODE", "") or "")[:8], status, min(int(seconds * 1000), 2**31 - 1),
                tuple(getattr(request, "_webmining_searches", ()))))


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
