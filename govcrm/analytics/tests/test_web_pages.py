"""The portal-use and segment pages on a hand-made fixture loaded by a real refresh: every figure
against a hand count, exports equal to the screen, role scoping, and outreach lists masked for
analysts and in clear (audited) for supervisors."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from govcrm.analytics.warehouse.refresh import refresh as run_refresh
from govcrm.audit.models import AuditRecord
from govcrm.cases.tests.factories import register
from govcrm.knowledge.tests.factories import ArticleVersionFactory

from .test_behaviour import T0, application, search, service, view
from .test_dashboards import screen, signed_in

pytestmark = pytest.mark.django_db

A, B, C = "a" * 32, "b" * 32, "c" * 32
ARTICLE = "/help/<int:article_id>/"


def minutes(n):
    return T0 + dt.timedelta(minutes=n)


@pytest.fixture
def portal(city):
    article = ArticleVersionFactory(title="居住证办理指南").article
    ref = str(article.pk)
    # Session A: home, a search, the article it found (one visit); back an hour later (a second visit).
    view(A, "portal:index", "/", minutes(0))
    view(A, "help:search", "/help/", minutes(1), referrer="/")
    search(A, "居住证", 3, minutes(1))
    view(A, "help:article", ARTICLE, minutes(2), kind="article", ref=ref, query="居住证", referrer="/help/")
    view(A, "portal:index", "/", minutes(60))
    # Session B: the same search twice, nothing found.
    view(B, "help:search", "/help/", minutes(0))
    search(B, "狗证", 0, minutes(0))
    view(B, "help:search", "/help/", minutes(5))
    search(B, "狗证", 0, minutes(5))
    # Session C: one page, from a search engine.
    view(C, "portal:index", "/", minutes(0))
    # Applications: 4 started in March, 3 submitted, 2 approved.
    citizen = register(city.actor("agent")).citizen
    item = service(city)
    application(item, citizen, "SQ2026031000001", "started", started=minutes(0))
    application(item, citizen, "SQ2026031000002", "in_review", started=minutes(0), submitted=minutes(30))
    for n in (3, 4):
        application(item, citizen, f"SQ202603100000{n}", "approved", started=minutes(0), submitted=minutes(30),
                    decided=minutes(3000))
    run_refresh()
    return {"city": city, "article": article, "ref": ref, "citizen": citizen}


QUERY = {"from": "2026-03", "to": "2026-03"}


def test_the_web_page_by_hand(portal, client):
    signed_in(client, "analyst")
    r = client.get("/dashboards/web/", QUERY)
    assert r.status_code == 200
    assert r.context["data"]["totals"] == {"views": 7, "sessions": 3, "visits": 4, "median_ms": 12}
    objects = screen(r, "objects")
    assert objects[1] == ["帮助文章", portal["ref"], "居住证办理指南", "1", "1", "1"]
    pages = screen(r, "pages")
    assert [row[:4] for row in pages[1:]] == [["/", "portal:index", "3", "2"], ["/help/", "help:search", "3", "2"],
                                              [ARTICLE, "help:article", "1", "1"]]
    assert screen(r, "nothing_found")[1:] == [["帮助文章库", "狗证", "2", "1", "2026-03-10"]]
    searches = screen(r, "searches")
    assert [row[1:] for row in searches[1:]] == [["狗证", "2", "0.0", "0.0"], ["居住证", "1", "100.0", "100.0"]]
    assert screen(r, "funnel")[1] == ["2026-03", "4", "3", "2", "75.0", "66.7"]
    # Visits: A1 / -> /help/ -> article; A2 /; B1 /help/ -> /help/; C1 /.
    assert screen(r, "entries")[1:] == [["/", "3", "66.7"], ["/help/", "1", "0.0"]]
    assert screen(r, "exits")[1:] == [["/", "2", "66.7"], ["/help/", "1", "33.3"], [ARTICLE, "1", "100.0"]]
    for name in ("objects", "pages", "nothing_found", "searches", "funnel", "entries", "exits"):
        shown = screen(r, name)
        for fmt in ("csv", "xlsx"):
            got = client.get(f"/dashboards/web/export/{name}.{fmt}", QUERY)
            assert got.status_code == 200 and "attachment" in got["Content-Disposition"]
            if fmt == "csv":
                rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
                rows = [[c if c != "" else "—" for c in row] for row in rows]
            else:
                book = openpyxl.load_workbook(io.BytesIO(got.content), read_only=True)
                rows = [["—" if v is None else str(v) for v in row]
                        for row in book.worksheets[0].iter_rows(values_only=True)]
            assert _norm(rows) == _norm(shown), (name, fmt)


def _norm(table):
    def one(cell):
        try:
            return float(cell)
        except ValueError:
            return cell
    return [[one(c) for c in row] for row in table]


def test_a_period_without_data_and_bad_months(portal, client):
    signed_in(client, "supervisor")
    r = client.get("/dashboards/web/", {"from": "2025-01", "to": "2025-02"})
    assert r.status_code == 200
    empty = screen(r, "funnel")
    assert len(empty) == 2 and len(empty[1]) == 1  # the header and "no figures"
    r = client.get("/dashboards/web/", {"from": "March"})
    assert r.status_code == 400 and "不是月份" in r.content.decode()
    assert client.get("/dashboards/web/export/funnel.csv", {"to": "2026-13"}).status_code == 400
    assert client.get("/dashboards/web/export/nothing.csv").status_code == 404
    assert client.get("/dashboards/web/export/funnel.pdf").status_code == 404


def test_english(portal, client):
    signed_in(client, "admin")
    client.cookies["django_language"] = "en"
    r = client.get("/dashboards/web/", QUERY)
    assert r.status_code == 200
    assert screen(r, "funnel")[0][:4] == ["Month", "Started", "Submitted", "Approved"]
    assert screen(r, "objects")[1][0] == "Help article"


def test_who_sees_the_web_and_segment_pages(portal, client):
    for username in ("analyst", "supervisor", "admin"):
        client.logout()
        signed_in(client, username)
        assert client.get("/dashboards/web/").status_code == 200, username
        assert client.get("/dashboards/segments/").status_code == 200, username
    assert 'href="/dashboards/web/"' in client.get("/dashboards/").content.decode()  # a tab of the dashboards
    client.logout()
    signed_in(client, "district_manager")
    overview = client.get("/dashboards/")
    assert overview.status_code == 200 and 'href="/dashboards/web/"' not in overview.content.decode()
    for username in ("district_manager", "agent", "dispatcher", "street_handler"):
        client.logout()
        signed_in(client, username)
        assert client.get("/dashboards/web/").status_code == 403, username
        assert client.get("/dashboards/segments/").status_code == 403, username
        assert client.get("/dashboards/web/export/funnel.csv").status_code == 403, username
        assert client.get("/dashboards/segments/0/outreach.csv").status_code == 403, username


def test_segments_page_and_its_export(portal, client):
    signed_in(client, "analyst")
    r = client.get("/dashboards/segments/")
    assert r.status_code == 200
    shown = screen(r, "segments")
    # One citizen with activity: too few to segment, so everyone is in segment 0.
    assert shown[1][:2] == ["0", "未细分"] and shown[1][3] == "1"
    for fmt in ("csv", "xlsx"):
        assert client.get(f"/dashboards/segments/export.{fmt}").status_code == 200
    exports = client.get("/dashboards/segments/export.csv")
    assert _norm([[c or "—" for c in row] for row in csv.reader(io.StringIO(exports.content.decode("utf-8-sig")))]) \
        == _norm(shown)


def test_outreach_masked_for_analysts_clear_and_audited_for_supervisors(portal, client):
    from govcrm.citizens.models import Citizen

    agent = portal["city"].actor("agent")
    other = register(agent, citizen={"name": "李四", "phone": "+8613912345678"}).citizen
    refused = register(agent, citizen={"name": "王五", "phone": "+8613700001111"}).citizen
    Citizen.objects.filter(pk=refused.pk).update(consent_contact=False)
    run_refresh()
    signed_in(client, "analyst")
    r = client.get("/dashboards/segments/0/outreach.csv")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 3  # header, the fixture's citizen and 李四; 王五 did not agree to be contacted
    body = r.content.decode("utf-8-sig")
    assert "139****5678" in body and "13912345678" not in body and "李*" in body and "王" not in body
    assert not AuditRecord.objects.filter(action=AuditRecord.Action.SENSITIVE_READ).exists()
    client.logout()
    signed_in(client, "supervisor")
    r = client.get("/dashboards/segments/0/outreach.xlsx")
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    values = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    assert any("+8613912345678" in str(v) for row in values for v in row)
    assert any(row[1] == "李四" for row in values)
    audited = AuditRecord.objects.filter(action=AuditRecord.Action.SENSITIVE_READ, actor_name="supervisor")
    assert str(other.pk) in set(audited.values_list("object_id", flat=True))
    assert client.get("/dashboards/segments/99/outreach.csv").status_code == 404


def test_missing_warehouse(city, client):
    signed_in(client, "supervisor")
    assert client.get("/dashboards/web/").status_code == 503
    assert client.get("/dashboards/segments/").status_code == 503


def test_a_warehouse_of_an_older_schema_is_a_clear_page(portal, client, warehouse_file):
    from govcrm.analytics.warehouse import connect

    con = connect()
    con.execute("UPDATE etl_state SET value = '1' WHERE name = 'schema_version'")
    con.close()
    signed_in(client, "supervisor")
    r = client.get("/dashboards/web/")
    assert r.status_code == 503 and "govcrm warehouse refresh" in r.content.decode()
    assert client.get("/dashboards/segments/0/outreach.csv").status_code == 503
