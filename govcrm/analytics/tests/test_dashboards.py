"""The dashboards on the worked month of test_metrics (cases made through the real moves, loaded by
a real refresh): the screen's tables against metrics, the exports (CSV, and XLSX read back with
openpyxl) against the screen, role scoping, bad filters, and a missing or locked warehouse."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from html.parser import HTMLParser

import openpyxl
import pytest

from govcrm.analytics import metrics

from .test_metrics import AS_OF, MARCH, month  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db


class Tables(HTMLParser):
    """The cells of every <table id="table-…"> of a page, as text."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = self._row = self._cell = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and (attrs.get("id") or "").startswith("table-"):
            self._table = self.tables.setdefault(attrs["id"][6:], [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def screen(response, name):
    return Tables(response.content.decode()).tables[name]


def as_text(value):
    return "—" if value is None else str(value)


def norm(table):
    """Cells compared as numbers where they are numbers (XLSX stores 75.0 as 75)."""
    def one(cell):
        try:
            return float(cell)
        except ValueError:
            return cell
    return [[one(c) for c in row] for row in table]


def exports_equal_screen(client, page, name, query, shown):
    for fmt in ("csv", "xlsx"):
        r = client.get(f"/dashboards/export/{page}/{name}.{fmt}", query)
        assert r.status_code == 200, r.content[:300]
        assert "attachment" in r["Content-Disposition"]
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
            rows = [[c if c != "" else "—" for c in row] for row in rows]
        else:
            book = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
            rows = [[as_text(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
        assert norm(rows) == norm(shown), fmt
        assert len(rows) == len(shown)


def signed_in(client, username):
    assert client.login(username=username, password="pass-12345")
    return client


def test_the_overview_shows_the_month_and_its_exports_equal_the_screen(month, client):  # noqa: F811
    signed_in(client, "supervisor")
    query = {"from": "2026-03", "to": "2026-03"}
    r = client.get("/dashboards/", query)
    assert r.status_code == 200
    assert r["Content-Security-Policy"].startswith("default-src 'self'")
    body = r.content.decode()
    assert 'type="application/json"' in body and "<script>" not in body
    shown = screen(r, "months")
    _header, row = shown
    expected = metrics.rates(month["con"], metrics.THREE_RATES, ["month"], months=(MARCH, MARCH), as_of=AS_OF)[0]
    # 11 cases registered, the merged and the withdrawn left out; response 5/8, resolution 3/4, satisfaction 2/4
    assert row[:4] == ["2026-03", "11", "9", "7"]  # closed: A B C D G, and H and I (withdrawn, merged)
    assert row[4:7] == [str(round(100 * expected[f"rate_{c}"], 1)) for c in metrics.THREE_RATES] == ["62.5", "75.0",
                                                                                                       "50.0"]
    assert row[7:] == ["8", "4", "4"]
    exports_equal_screen(client, "overview", "months", query, shown)
    channels = screen(r, "channels")
    assert channels[1:] == [["电话", "8", "88.9"], ["微信", "1", "11.1"]]
    exports_equal_screen(client, "overview", "channels", query, channels)


def test_rankings_with_wilson_intervals_and_their_exports(month, client):  # noqa: F811
    city = month["city"]
    signed_in(client, "analyst")
    query = {"month": "2026-03", "rate": "satisfaction", "level": "street"}
    r = client.get("/dashboards/rankings/", query)
    assert r.status_code == 200
    shown = screen(r, "ranking")
    low, high = metrics.wilson(2, 3)
    assert shown[1][:5] == ["1", "1", city.street1.name_zh, "2", "3"]
    assert shown[1][5:] == [str(round(100 * 2 / 3, 1)), str(round(100 * low, 1)), str(round(100 * high, 1))]
    assert shown[2][3:5] == ["0", "1"] and len(shown) == 3
    exports_equal_screen(client, "rankings", "ranking", query, shown)


def test_english_headers_and_names(month, client):  # noqa: F811
    signed_in(client, "admin")
    r = client.get("/dashboards/rankings/", {"month": "2026-03"}, HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    r = client.get("/dashboards/rankings/", {"month": "2026-03"})
    assert r.status_code == 200
    assert "Unit rankings" in r.content.decode()
    assert screen(r, "ranking")[0][:3] == ["Cautious rank", "Rank", "Unit"]


def test_a_unit_manager_sees_its_subtree_only_and_others_are_refused(month, client):  # noqa: F811
    city = month["city"]
    signed_in(client, "district_manager")
    r = client.get("/dashboards/", {"from": "2026-03", "to": "2026-03"})
    assert r.status_code == 200
    # of the 11: K (the urban department's) is not the district's, G (answered at first contact)
    # never had a unit
    assert screen(r, "months")[1][1] == "9"
    r = client.get("/dashboards/rankings/", {"month": "2026-03", "level": "district"})
    names = [row[2] for row in screen(r, "ranking")[1:]]
    assert names == [city.district.name_zh]
    urban = city.actor("urban_handler").unit_id
    r = client.get("/dashboards/", {"unit": str(urban)})
    assert r.status_code == 403
    r = client.get(f"/dashboards/export/overview/months.csv?unit={urban}")
    assert r.status_code == 403
    for username in ("agent", "dispatcher", "street_handler", "water_handler"):
        client.logout()
        signed_in(client, username)
        assert client.get("/dashboards/").status_code == 403, username
        assert client.get("/dashboards/export/rankings/ranking.xlsx").status_code == 403, username


def test_bad_filters_are_a_clear_400_and_unknown_exports_404(month, client):  # noqa: F811
    signed_in(client, "supervisor")
    r = client.get("/dashboards/", {"from": "March"})
    assert r.status_code == 400 and "不是月份" in r.content.decode()
    assert client.get("/dashboards/export/overview/ranking.csv").status_code == 404
    assert client.get("/dashboards/export/overview/months.pdf").status_code == 404
    assert client.get("/dashboards/export/overview/months.csv", {"to": "2026-13"}).status_code == 400


def test_a_missing_warehouse_is_a_clear_page(city, client):
    signed_in(client, "supervisor")
    r = client.get("/dashboards/")
    assert r.status_code == 503
    assert "govcrm warehouse refresh" in r.content.decode()


HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
sys.stdin.readline()
"""


def test_a_warehouse_locked_by_a_refresh_is_a_clear_page_not_a_500(month, client, warehouse_file):  # noqa: F811
    month["con"].close()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse_file)], stdin=subprocess.PIPE,  # noqa: S603
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        signed_in(client, "supervisor")
        r = client.get("/dashboards/")
        assert r.status_code == 503 and r["Retry-After"] == "5"
        assert "正在刷新" in r.content.decode()
        assert client.get("/dashboards/export/overview/months.xlsx").status_code == 503
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    assert client.get("/dashboards/").status_code == 200


def test_the_filters_narrow_the_figures(month, client):  # noqa: F811
    from govcrm.cases.models import Category

    city = month["city"]
    signed_in(client, "supervisor")
    # no period given: the twelve months up to the latest loaded, March 2026 included
    r = client.get("/dashboards/")
    assert r.status_code == 200 and screen(r, "months")[1][:2] == ["2026-03", "11"]
    assert 'value="2025-04"' in r.content.decode() and 'value="2026-03"' in r.content.decode()
    # a category at its first level and at its leaf: all eleven; another category: nothing
    for code, registered in (("urban", "11"), ("urban.lighting.out", "11")):
        r = client.get("/dashboards/", {"category": Category.objects.get(code=code).pk})
        assert screen(r, "months")[1][1] == registered, code
    r = client.get("/dashboards/", {"category": Category.objects.get(code="economy.utilities.water").pk})
    assert len(screen(r, "months")) == 2 and "没有数据" in screen(r, "months")[1][0]
    # a unit: the street office S1 holds A, B, C, F and H (withdrawn)
    r = client.get("/dashboards/", {"unit": city.street1.pk})
    assert screen(r, "months")[1][1:3] == ["5", "4"]
    r = client.get("/dashboards/rankings/", {"month": "2026-03", "unit": city.street1.pk})
    assert [row[2] for row in screen(r, "ranking")[1:]] == [city.street1.name_zh]
    # a month with no cases: an empty ranking, not an error
    r = client.get("/dashboards/rankings/", {"month": "2026-01"})
    assert r.status_code == 200 and len(screen(r, "ranking")) == 2
