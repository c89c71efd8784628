"""Portal page views and searches: recorded through the real middleware stack without the client's
address, under a session hash that is stable within a day and different the next; only portal
pages; URL patterns instead of typed paths; scrubbed queries; bulk writes from the buffer."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from govcrm.knowledge.tests.factories import ArticleVersionFactory
from govcrm.webmining import recorder
from govcrm.webmining.models import DailySalt, PageView, PortalSearch

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.77"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0"


@pytest.fixture(autouse=True)
def web_mining(settings):
    """Recording on, no background thread (the test flushes), an empty buffer before and after."""
    settings.GOVCRM_WEB_MINING = True
    settings.GOVCRM_WEB_MINING_FLUSH_SECONDS = 0
    settings.GOVCRM_WEB_MINING_FLUSH_ROWS = 1000
    recorder.BUFFER.take()
    recorder._salts.clear()
    yield
    recorder.BUFFER.take()
    recorder._salts.clear()


def visit(client, path, **extra):
    return client.get(path, REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=AGENT, **extra)


def test_a_page_view_has_no_address_and_a_salted_session_hash(city, client):
    article = ArticleVersionFactory(title="如何办理居住证", body="携带身份证到派出所。").article
    assert visit(client, "/").status_code == 200
    assert visit(client, f"/help/{article.pk}/", HTTP_REFERER="http://testserver/").status_code == 200
    assert PageView.objects.count() == 0  # buffered, not yet written
    assert recorder.BUFFER.flush() == 2
    first, second = PageView.objects.order_by("id")
    assert first.route == "portal:index" and first.path == "/" and first.status == 200
    assert second.route == "help:article" and second.path == "/help/<int:article_id>/"
    assert (second.object_kind, second.object_ref) == ("article", str(article.pk))
    assert second.referrer_path == "/" and second.referrer_site == ""
    assert first.session == second.session and len(first.session) == 32
    assert first.language == "zh-hans" and first.duration_ms >= 0
    salt = DailySalt.objects.get()
    assert first.session == recorder.session_hash(ADDRESS, AGENT, salt.day)
    # The address is nowhere in what was stored, and the hash is not a plain hash of it.
    import hashlib

    for row in PageView.objects.values():
        assert ADDRESS not in str(row)
    assert first.session not in {hashlib.sha256(f"{ADDRESS}\x00{AGENT}".encode()).hexdigest()[:32],
                                 hashlib.md5(ADDRESS.encode()).hexdigest()}  # noqa: S324 - what it must not be


def test_same_browser_same_day_one_session_another_day_another(city):
    today = dt.date(2026, 3, 10)
    a = recorder.session_hash(ADDRESS, AGENT, today)
    assert recorder.session_hash(ADDRESS, AGENT, today) == a
    assert recorder.session_hash("203.0.113.78", AGENT, today) != a
    assert recorder.session_hash(ADDRESS, AGENT + "x", today) != a
    tomorrow = recorder.session_hash(ADDRESS, AGENT, today + dt.timedelta(days=1))
    assert tomorrow != a
    # Yesterday's salt is deleted when today's is made: nobody can recompute yesterday's sessions.
    assert list(DailySalt.objects.values_list("day", flat=True)) == [today + dt.timedelta(days=1)]
    recorder._salts.clear()
    assert recorder.session_hash(ADDRESS, AGENT, today) != a  # a new salt for the old day


def test_the_salt_is_shared_by_processes_through_the_database(city):
    day = dt.date(2026, 3, 11)
    a = recorder.session_hash(ADDRESS, AGENT, day)
    recorder._salts.clear()  # as another web process, which has not seen the salt yet
    assert recorder.session_hash(ADDRESS, AGENT, day) == a


def test_only_portal_html_pages_are_recorded(city, client):
    visit(client, "/console/")  # staff console (a redirect to sign-in)
    visit(client, "/dashboards/")
    visit(client, "/healthz")
    visit(client, "/api/v1/openapi.json")
    visit(client, "/help/offers", HTTP_HX_REQUEST="true", data={"description": "路灯"})  # an HTMX fragment
    client.post("/track/", {"number": "X"}, REMOTE_ADDR=ADDRESS)
    recorder.BUFFER.flush()
    assert PageView.objects.count() == 0
    # A tracking number is personal: the redirect is not a page view, the page it leads to is kept
    # as its pattern without the query string.
    r = visit(client, "/track/CN2026000000001/", follow=True)
    assert r.redirect_chain and r.status_code == 200
    recorder.BUFFER.flush()
    view = PageView.objects.get()
    assert view.path == "/track/" and view.route == "portal:track" and view.object_ref == ""
    assert "CN2026" not in str(PageView.objects.values().get())


def test_a_search_and_the_result_clicked_from_it(city, client):
    article = ArticleVersionFactory(title="居住证办理指南", body="居住证 办理 材料").article
    visit(client, "/help/", data={"q": "居住证"})
    visit(client, "/help/", data={"q": "  狗  证 13912345678 "})  # nothing found; a phone number typed in
    visit(client, f"/help/{article.pk}/", HTTP_REFERER="http://testserver/help/?q=%E5%B1%85%E4%BD%8F%E8%AF%81")
    visit(client, "/", HTTP_REFERER="https://www.baidu.com/s?wd=12345")
    recorder.BUFFER.flush()
    searches = list(PortalSearch.objects.order_by("id").values_list("kind", "query", "results"))
    assert searches == [("knowledge", "居住证", 1), ("knowledge", "狗 证 [number]", 0)]
    clicked = PageView.objects.get(route="help:article")
    assert clicked.search_query == "居住证" and clicked.referrer_path == "/help/"
    external = PageView.objects.get(route="portal:index")
    assert external.referrer_site == "www.baidu.com" and external.referrer_path == ""
    assert "13912345678" not in str(list(PortalSearch.objects.values()))


@pytest.mark.parametrize(("typed", "kept"), [
    ("ＩＤ 110101199003071234 怎么办", "id [number] 怎么办"),
    ("zhang.san@example.cn 密码", "[email] 密码"),
    ("+86 139-1234-5678", "[number]"),
    ("2026年 社保", "2026年 社保"),  # a year is not a personal number
    ("Residence   PERMIT", "residence permit"),
])
def test_queries_are_normalised_and_scrubbed(typed, kept):
    assert recorder.normalise_query(typed) == kept


def test_the_buffer_writes_in_bulk_when_full(city, client, settings):
    settings.GOVCRM_WEB_MINING_FLUSH_ROWS = 5
    for _ in range(4):
        visit(client, "/")
    assert PageView.objects.count() == 0 and len(recorder.BUFFER) == 4
    with CaptureQueriesContext(connection) as queries:
        visit(client, "/")  # the fifth fills the buffer: one INSERT of five rows
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT INTO \"webmining_pageview\"" in q["sql"]]
    assert len(inserts) == 1 and inserts[0].count("), (") == 4  # one statement, five rows
    assert PageView.objects.count() == 5 and len(recorder.BUFFER) == 0


def test_the_background_thread_writes_what_waits(city, client, settings, transactional_db):
    """With FLUSH_SECONDS set, a daemon thread writes the buffer without any further request."""
    settings.GOVCRM_WEB_MINING_FLUSH_SECONDS = 0.2
    buffer = recorder.Buffer()
    buffer.add((recorder.timezone.now(), ADDRESS, AGENT, "portal:index", "", "portal", {}, "", "testserver",
                "zh-hans", 200, 3, ()))
    deadline = time.monotonic() + 10
    while PageView.objects.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert PageView.objects.count() == 1 and len(buffer) == 0


def test_a_failed_write_loses_the_batch_but_not_the_request(city, client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    visit(client, "/")
    monkeypatch.setattr(recorder, "_insert", broken)
    assert recorder.BUFFER.flush() == 0
    assert len(recorder.BUFFER) == 0
    monkeypatch.setattr(recorder, "client_address", broken)
    assert visit(client, "/").status_code == 200  # recording failed: the page is still served


def test_recording_off_records_nothing(city, client, settings):
    settings.GOVCRM_WEB_MINING = False
    visit(client, "/")
    assert len(recorder.BUFFER) == 0


def test_cost_per_request_is_well_under_a_millisecond(city, rf, settings):
    """The work the middleware adds to a request (timed in-process, buffer only; the bulk write is
    measured in bench/webmining_overhead.py). Generous bound for a busy shared machine; typically
    a few tens of microseconds."""
    from django.http import HttpResponse
    from django.urls import resolve

    settings.GOVCRM_WEB_MINING_FLUSH_ROWS = 10**6
    recorder.session_hash(ADDRESS, AGENT)  # the day's salt is read once per process
    request = rf.get("/help/1/", REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=AGENT, HTTP_REFERER="http://testserver/")
    request.resolver_match = resolve("/help/1/")
    response = HttpResponse("<p>x</p>")
    n = 2000
    started = time.perf_counter()
    for _ in range(n):
        recorder.record(request, response, 0.01)
    per_request = (time.perf_counter() - started) / n
    assert len(recorder.BUFFER) == n
    assert per_request < 0.0002, per_request


def test_a_catalogue_search_and_the_service_opened_from_it(city, client):
    from govcrm.services.models import ServiceItem

    ServiceItem.objects.create(code="residence-permit", name_zh="居住证办理", name_en="Residence permit",
                               unit=city.street1, time_limit_days=10, online=True)
    assert visit(client, "/services/", data={"q": "居住证"}).status_code == 200
    assert visit(client, "/services/residence-permit/",
                 HTTP_REFERER="http://testserver/services/?q=%E5%B1%85%E4%BD%8F%E8%AF%81").status_code == 200
    recorder.BUFFER.flush()
    found = PortalSearch.objects.get()
    assert (found.kind, found.query) == ("services", "居住证") and found.results >= 1
    opened = PageView.objects.get(route="services:item")
    assert (opened.object_kind, opened.object_ref, opened.search_query) == ("service", "residence-permit", "居住证")
    assert opened.path == "/services/<slug:code>/" and opened.referrer_path == "/services/"


def test_demo_traffic_is_added_once_with_real_result_counts(city):
    from govcrm.knowledge.queries import suggestions
    from govcrm.webmining.demo import DemoTraffic, portal_traffic_ensure

    ArticleVersionFactory(title="居住证办理指南", body="居住证 办理 材料")
    added = portal_traffic_ensure(days=3, visits_per_day=30)
    assert added.page_views == PageView.objects.count() > 0 and added.searches == PortalSearch.objects.count() > 0
    asked = dict(PortalSearch.objects.filter(kind="knowledge").values_list("query", "results").distinct())
    assert asked and all(n == len(suggestions(q, limit=5)) for q, n in asked.items())
    assert any(n == 0 for n in asked.values())  # things the portal does not have
    assert portal_traffic_ensure(days=3) == DemoTraffic(0, 0)  # once
