"""The behaviour facts: applications (govcrm/services), portal page views and searches
(govcrm/webmining) with the result a search led to; the refresh reading through the read replica."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connections
from django.utils import timezone

from govcrm.analytics.warehouse import connect, refresh, source
from govcrm.analytics.warehouse.refresh import refresh as run_refresh
from govcrm.cases.tests.factories import register
from govcrm.webmining.models import PageView, PortalSearch

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing


def service(city, code="residence-permit"):
    from govcrm.services.models import ServiceItem

    return ServiceItem.objects.create(code=code, name_zh="居住证办理", name_en="Residence permit",
                                      unit=city.street1, time_limit_days=10, online=True)


def application(item, citizen, number, status, *, started, submitted=None, decided=None):
    from govcrm.services.models import Application

    return Application.objects.create(number=number, service=item, citizen=citizen, status=status,
                                      created_at=started, submitted_at=submitted, decided_at=decided,
                                      unit=item.unit)


def view(session, route, path, at, *, kind="", ref="", query="", referrer="", status=200):
    return PageView.objects.create(at=at, session=session, route=route, path=path, object_kind=kind, object_ref=ref,
                                   search_query=query, referrer_path=referrer, language="zh-hans", status=status,
                                   duration_ms=12)


def search(session, query, results, at, kind="knowledge"):
    return PortalSearch.objects.create(at=at, session=session, kind=kind, query=query, results=results,
                                       language="zh-hans")


def test_applications_are_loaded_without_the_citizen_in_clear(city):
    citizen = register(city.actor("agent")).citizen
    item = service(city)
    application(item, citizen, "SQ2026031000001", "started", started=T0)
    application(item, citizen, "SQ2026031000002", "in_review", started=T0, submitted=T0 + dt.timedelta(hours=1))
    application(item, citizen, "SQ2026031000003", "approved", started=T0, submitted=T0 + dt.timedelta(hours=1),
                decided=T0 + dt.timedelta(days=2))
    result = run_refresh()
    assert result.applications == 3
    con = connect(read_only=True)
    rows = con.execute("SELECT service_code, citizen_key, unit_key, status, approved, month_key, date_key "
                       "FROM fact_application ORDER BY application_id").fetchall()
    con.close()
    assert [r[3:5] for r in rows] == [("started", False), ("in_review", False), ("approved", True)]
    assert {r[1] for r in rows} == {source.citizen_key(citizen.pk)}
    assert rows[0][0] == "residence-permit" and rows[0][2] == city.street1.pk and rows[0][5:] == (202603, 20260310)


def test_a_late_decision_reaches_the_warehouse(city, monkeypatch):
    monkeypatch.setattr(refresh, "OVERLAP", dt.timedelta(0))
    citizen = register(city.actor("agent")).citizen
    app = application(service(city), citizen, "SQ2026031000009", "submitted", started=T0, submitted=T0)
    run_refresh()
    app.status, app.decided_at = "approved", T0 + dt.timedelta(days=3)
    app.save()
    assert run_refresh().applications == 1
    con = connect(read_only=True)
    assert con.execute("SELECT count(*), bool_and(approved) FROM fact_application").fetchone() == (1, True)
    con.close()


def test_without_applications_the_warehouse_still_builds(city):
    register(city.actor("agent"))
    result = run_refresh()
    assert result.applications == 0 and result.cases == 1


def test_page_views_searches_and_the_result_a_search_led_to(city, monkeypatch):
    monkeypatch.setattr(refresh, "ID_SLACK", 0)
    search(s := "a" * 32, "居住证", 3, T0)
    search(s, "狗证", 0, T0 + dt.timedelta(minutes=1))
    view(s, "help:search", "/help/", T0)
    run_refresh()
    con = connect(read_only=True)
    assert con.execute("SELECT count(*) FROM fact_page_view").fetchone()[0] == 1
    assert con.execute("SELECT count(clicked_ref) FROM fact_search").fetchone()[0] == 0
    con.close()
    # The click comes in a later batch: the earlier search gets it.
    view(s, "help:article", "/help/<int:article_id>/", T0 + dt.timedelta(minutes=2), kind="article", ref="7",
         query="居住证", referrer="/help/")
    view(s, "help:article", "/help/<int:article_id>/", T0 + dt.timedelta(minutes=3), kind="article", ref="8",
         query="居住证", referrer="/help/")
    view("b" * 32, "help:article", "/help/<int:article_id>/", T0 + dt.timedelta(minutes=2), kind="article",
         ref="9", query="居住证")  # another session
    view(s, "help:article", "/help/<int:article_id>/", T0 + dt.timedelta(hours=2), kind="article", ref="10",
         query="狗证")  # too late to count
    result = run_refresh()
    assert result.page_views == 4 and result.searches == 0
    con = connect(read_only=True)
    rows = con.execute("SELECT query, results, clicked_kind, clicked_ref, month_key FROM fact_search "
                       "ORDER BY search_id").fetchall()
    assert rows == [("居住证", 3, "article", "7", 202603), ("狗证", 0, None, None, 202603)]
    assert con.execute("SELECT path, object_ref, duration_ms, date_key FROM fact_page_view WHERE view_id = ?",
                       [PageView.objects.get(object_ref="7").pk]).fetchone() == (
        "/help/<int:article_id>/", "7", 12, 20260310)
    con.close()


def test_pruned_page_views_keep_their_facts_and_the_search_clicks_they_made_through_a_full_rebuild(
        city, settings, monkeypatch):
    from govcrm.webmining.actions import page_views_prune

    settings.GOVCRM_WEB_MINING_RETENTION_DAYS = 400
    register(city.actor("agent"))  # an event: how the warehouse knows its source
    now = timezone.now()
    search(s := "c" * 32, "居住证", 3, now - dt.timedelta(days=500))
    old = view(s, "help:article", "/help/<int:article_id>/", now - dt.timedelta(days=500, minutes=-1),
               kind="article", ref="7", query="居住证")
    new = view("d" * 32, "help:index", "/help/", now - dt.timedelta(days=1))
    run_refresh()
    assert page_views_prune().page_views == 1
    assert list(PageView.objects.values_list("pk", flat=True)) == [new.pk]

    def facts():
        con = connect(read_only=True)
        try:
            return (con.execute("SELECT view_id FROM fact_page_view ORDER BY 1").fetchall(),
                    con.execute("SELECT clicked_ref FROM fact_search").fetchall())
        finally:
            con.close()

    kept = ([(old.pk,), (new.pk,)], [("7",)])
    run_refresh()
    assert facts() == kept
    assert run_refresh(full=True).full and facts() == kept
    # A warehouse loaded from another database keeps nothing of it.
    monkeypatch.setattr(refresh, "_source_replaced", lambda con: True)
    run_refresh()
    assert facts() == ([(new.pk,)], [(None,)])


class RecordingConnections:
    """Stands in for django.db.connections in warehouse.source: notes the alias of every read."""

    def __init__(self):
        self.aliases: list[str] = []

    def __getitem__(self, alias):
        self.aliases.append(alias)
        return connections["default"]  # the test database (the test runner mirrors the replica onto it)


@pytest.fixture
def replica_configured(settings):
    settings.DATABASES = {**settings.DATABASES, "replica": {**settings.DATABASES["default"]}}
    connections["replica"] = connections["default"]
    yield
    del connections["replica"]


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_with_a_replica_the_refresh_reads_through_it(city, replica_configured, monkeypatch):
    register(city.actor("agent"))
    view("c" * 32, "portal:index", "/", timezone.now())
    recording = RecordingConnections()
    monkeypatch.setattr(source, "connections", recording)
    routed = []
    real = source.stream
    monkeypatch.setattr(source, "stream", lambda qs, batch=source.BATCH: (routed.append(qs.db), real(qs, batch))[1])
    result = run_refresh()
    assert result.cases == 1 and result.page_views == 1
    assert recording.aliases and set(recording.aliases) == {"replica"}
    assert set(routed) == {"replica"}


def test_without_a_replica_the_refresh_reads_the_primary(city, monkeypatch):
    register(city.actor("agent"))
    recording = RecordingConnections()
    monkeypatch.setattr(source, "connections", recording)
    run_refresh()
    assert recording.aliases and set(recording.aliases) == {"default"}
