"""The category, deadline, channel and map dashboards on the worked month of test_metrics (and on
planted points for the clusters): numbers against hand counts, exports against the screen, the
area filter, bad filter values, and role scoping."""

from __future__ import annotations

import pytest

from govcrm.analytics import hotspots, metrics
from govcrm.analytics.warehouse import connect
from govcrm.analytics.warehouse.refresh import refresh
from govcrm.cases.models import Category
from govcrm.cases.tests.factories import register
from govcrm.organization.models import Area

from .test_dashboards import exports_equal_screen, screen, signed_in
from .test_metrics import MARCH, month  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db
PERIOD = {"from": "2026-03", "to": "2026-03"}
RATES = ["62.5", "75.0", "50.0", "8", "4", "4"]  # response 5/8, resolution 3/4, satisfaction 2/4


def name(code):
    return Category.objects.get(code=code).name_zh


def cat(code):
    return str(Category.objects.get(code=code).pk)


def test_categories_drill_down_the_three_levels(month, client):  # noqa: F811
    signed_in(client, "supervisor")
    r = client.get("/dashboards/categories/", PERIOD)
    assert r.status_code == 200
    rows = screen(r, "categories")
    # all eleven cases are street lights: level 1 is 城乡建设 alone, with the month's figures
    assert rows[1] == [name("urban"), "11", "9", "7", "100.0", *RATES] and len(rows) == 2
    link = f'href="/dashboards/categories/?from=2026-03&amp;to=2026-03&amp;category={cat("urban")}"'
    assert link in r.content.decode()
    exports_equal_screen(client, "categories", "categories", PERIOD, rows)
    r = client.get("/dashboards/categories/", {**PERIOD, "category": cat("urban")})
    assert screen(r, "categories")[1] == [name("urban.lighting"), "11", "9", "7", "100.0", *RATES]
    r = client.get("/dashboards/categories/", {**PERIOD, "category": cat("urban.lighting")})
    assert screen(r, "categories")[1][:3] == [name("urban.lighting.out"), "11", "9"]
    # a leaf: the leaf alone, no link further down; the trail links back up
    r = client.get("/dashboards/categories/", {**PERIOD, "category": cat("urban.lighting.out")})
    body = r.content.decode()
    assert screen(r, "categories")[1][:3] == [name("urban.lighting.out"), "11", "9"]
    assert "<a href=\"/dashboards/categories/?" not in body.split('id="table-categories"')[1]
    assert f"category={cat('urban.lighting')}" in body.split('class="dash-crumbs"')[1].split("</nav>")[0]


@pytest.fixture
def spread(city):
    """Cases in several categories (registered now), one withdrawn: the roll-up by hand."""
    agent = city.actor("agent")
    for code, n in (("urban.lighting.out", 3), ("urban.lighting.daytime", 1), ("urban.roads.pothole", 2),
                    ("economy.utilities.water", 1)):
        for _ in range(n):
            register(agent, category=code)
    from govcrm.cases.tests.factories import move

    move(agent, register(agent, category="urban.lighting.out"), "withdraw", reason="撤回")
    refresh()
    return city


def test_the_category_tree_rolls_up(spread, client):
    signed_in(client, "analyst")
    rows = screen(client.get("/dashboards/categories/"), "categories")
    # level 1: urban 3 + 1 + 2 + the withdrawn one registered, 6 counted; economy 1; ordered by counted
    assert [r[:5] for r in rows[1:]] == [[name("urban"), "7", "6", "1", "85.7"],
                                         [name("economy"), "1", "1", "0", "14.3"]]
    rows = screen(client.get("/dashboards/categories/", {"category": cat("urban")}), "categories")
    assert [r[:3] for r in rows[1:]] == [[name("urban.lighting"), "5", "4"], [name("urban.roads"), "2", "2"]]
    rows = screen(client.get("/dashboards/categories/", {"category": cat("urban.lighting")}), "categories")
    assert [r[:5] for r in rows[1:]] == [[name("urban.lighting.out"), "4", "3", "1", "75.0"],
                                         [name("urban.lighting.daytime"), "1", "1", "0", "25.0"]]


def test_deadline_performance_per_stage_unit_and_category(month, client):  # noqa: F811
    city = month["city"]
    signed_in(client, "supervisor")
    r = client.get("/dashboards/deadlines/", PERIOD)
    assert r.status_code == 200
    stages = screen(r, "stages")
    # accept: A C D E F K on time, B late, J never accepted; contact and reply: A C D F K on time,
    # B and E late, J not done (docs/metrics.md)
    low, high = metrics.wilson(6, 8)
    assert stages[1] == ["签收", "8", "6", "1", "1", "75.0", str(round(100 * low, 1)), str(round(100 * high, 1))]
    assert stages[2][:6] == ["首次联系", "8", "5", "2", "1", "62.5"]
    assert stages[3][:6] == ["答复", "8", "5", "2", "1", "62.5"]
    exports_equal_screen(client, "deadlines", "stages", PERIOD, stages)
    units = screen(r, "units")
    # per stage: n, on time %, overdue. S1: A B C F; S2: D E J; no street: K (urban department)
    assert units[1:] == [
        [city.street1.name_zh, "4", "75.0", "0", "4", "75.0", "0", "4", "75.0", "0"],
        [city.street2.name_zh, "3", "66.7", "1", "3", "33.3", "1", "3", "33.3", "1"],
        ["（本层级无）", "1", "100.0", "0", "1", "100.0", "0", "1", "100.0", "0"],
    ]
    exports_equal_screen(client, "deadlines", "units", PERIOD, units)
    r = client.get("/dashboards/deadlines/", {**PERIOD, "level": "district"})
    assert [row[0] for row in screen(r, "units")[1:]] == [city.district.name_zh, "（本层级无）"]
    categories = screen(r, "categories")
    assert categories[1] == [name("urban"), "8", "75.0", "1", "8", "62.5", "1", "8", "62.5", "1"]
    exports_equal_screen(client, "deadlines", "categories", {**PERIOD, "level": "district"}, categories)


def test_channels_page(month, client):  # noqa: F811
    signed_in(client, "supervisor")
    r = client.get("/dashboards/channels/", PERIOD)
    rows = screen(r, "channels")
    # 10 by phone (one withdrawn, one merged: 8 counted), K by WeChat; G answered at first contact
    assert rows[1][:4] == ["电话", "10", "8", "88.9"] and rows[2][:4] == ["微信", "1", "1", "11.1"]
    assert rows[1][-1] == str(round(100 / 8, 1)) and rows[2][-1] == "0.0"
    exports_equal_screen(client, "channels", "channels", PERIOD, rows)
    monthly = screen(r, "months")
    assert monthly == [["月份", "电话", "微信"], ["2026-03", "8", "1"]]
    exports_equal_screen(client, "channels", "months", PERIOD, monthly)
    # a unit manager gets no first-contact resolution (the centre's figure, not a unit's)
    client.logout()
    signed_in(client, "district_manager")
    rows = screen(client.get("/dashboards/channels/", PERIOD), "channels")
    assert rows[1][:3] == ["电话", "9", "7"] and rows[1][-1] == "—"


def test_requests_per_10k_by_area_and_the_area_filter(month, client):  # noqa: F811
    signed_in(client, "supervisor")
    r = client.get("/dashboards/map/", {**PERIOD, "level": "district"})
    assert r.status_code == 200
    areas = screen(r, "areas")
    # counted: eight in grid d1s1g1 (district d1, 500,000 residents), K in d2 (400,000)
    assert areas[1:] == [["东城区", "d1", "500000", "8", "0.16", *poisson(8, 500_000)],
                         ["西城区", "d2", "400000", "1", str(round(1e4 / 400_000, 2)), *poisson(1, 400_000)]]
    exports_equal_screen(client, "map", "areas", {**PERIOD, "level": "district"}, areas)
    r = client.get("/dashboards/map/", {**PERIOD, "level": "grid"})
    assert screen(r, "areas")[1][:5] == ["和平一网格", "d1s1g1", "5000", "8", "16.0"]
    # the area filter: a subtree; below the chosen level, the area alone at its own level
    d2 = str(Area.objects.get(code="d2").pk)
    r = client.get("/dashboards/", {**PERIOD, "area": d2})
    assert screen(r, "months")[1][1:3] == ["1", "1"]
    grid = str(Area.objects.get(code="d1s1g1").pk)
    r = client.get("/dashboards/map/", {**PERIOD, "level": "district", "area": grid})
    assert [row[1] for row in screen(r, "areas")[1:]] == ["d1s1g1"]
    d1 = str(Area.objects.get(code="d1").pk)
    r = client.get("/dashboards/deadlines/", {**PERIOD, "area": d1})
    assert screen(r, "stages")[1][1] == "7"  # K was in d2
    r = client.get("/dashboards/rankings/", {"month": "2026-03", "area": d2, "level": "district"})
    assert len(screen(r, "ranking")) == 2 and "没有数据" in screen(r, "ranking")[1][0]


def poisson(count, population):
    low, high = metrics._poisson_interval(count)
    return [str(round(low * 1e4 / population, 2)), str(round(high * 1e4 / population, 2))]


@pytest.mark.parametrize(("board", "params", "message"), [
    ("categories", {"area": "999999"}, "没有该区域"),
    ("categories", {"category": "abc"}, "没有该分类"),
    ("deadlines", {"level": "grid"}, "未知单位层级"),
    ("channels", {"from": "2026-3-1"}, "不是月份"),
    ("map", {"level": "city"}, "未知区域层级"),
    ("map", {"eps": "-5"}, "聚类距离"),
    ("map", {"eps": "1e3"}, "聚类距离"),
    ("map", {"min_samples": "1"}, "最少案件数"),
    ("map", {"area": "d1"}, "没有该区域"),
])
def test_bad_filter_values_are_a_clear_400(month, client, board, params, message):  # noqa: F811
    signed_in(client, "supervisor")
    r = client.get(f"/dashboards/{board}/", params)
    assert r.status_code == 400
    assert message in r.content.decode()
    table = {"categories": "categories", "deadlines": "stages", "channels": "channels", "map": "areas"}[board]
    r = client.get(f"/dashboards/export/{board}/{table}.csv", params)
    assert r.status_code == 400 and r["Content-Type"].startswith("text/plain")


def test_new_pages_are_scoped_by_role(month, client):  # noqa: F811
    city = month["city"]
    signed_in(client, "district_manager")
    r = client.get("/dashboards/deadlines/", PERIOD)
    # the district's subtree: not K (urban department), not G (no unit)
    assert screen(r, "stages")[1][1] == "7"
    assert [row[0] for row in screen(r, "units")[1:]] == [city.street1.name_zh, city.street2.name_zh]
    assert screen(client.get("/dashboards/categories/", PERIOD), "categories")[1][1] == "9"
    assert [row[3] for row in screen(client.get("/dashboards/map/", {**PERIOD, "level": "district"}),
                                     "areas")[1:]] == ["7", "0"]
    urban = city.actor("urban_handler").unit_id
    for page in ("categories", "deadlines", "channels", "map"):
        assert client.get(f"/dashboards/{page}/", {"unit": urban}).status_code == 403
    for username in ("agent", "dispatcher", "street_handler"):
        client.logout()
        signed_in(client, username)
        for page, table in (("categories", "categories"), ("deadlines", "units"), ("channels", "months"),
                            ("map", "clusters")):
            assert client.get(f"/dashboards/{page}/").status_code == 403, (username, page)
            assert client.get(f"/dashboards/export/{page}/{table}.xlsx").status_code == 403, (username, page)


# --- clusters -------------------------------------------------------------------------------------

P = (30.5000, 114.1000)  # planted hotspot P: six street lights within about 30 m
Q = (30.5200, 114.1000)  # Q, 2.2 km north: four potholes within about 30 m


@pytest.fixture
def planted(city):
    agent = city.actor("agent")
    for i in range(6):
        register(agent, category="urban.lighting.out", lat=P[0] + 0.0001 * (i % 3), lon=P[1] + 0.0001 * (i // 3))
    register(agent, category="urban.roads.pothole", lat=P[0], lon=P[1])  # P's main category stays lighting
    for i in range(4):
        register(agent, category="urban.roads.pothole", lat=Q[0] + 0.0002 * i, lon=Q[1])
    for i in range(3):  # scattered: noise
        register(agent, category="urban.greening.trees", lat=30.45 + 0.01 * i, lon=114.3)
    register(agent, category="urban.greening.trees")  # no coordinates: not a point
    refresh()
    con = connect(read_only=True)
    yield con
    con.close()


def test_haversine_distance():
    assert hotspots.haversine_m(30.0, 114.0, 31.0, 114.0) == pytest.approx(111_195, rel=1e-4)
    assert hotspots.haversine_m(0.0, 0.0, 0.0, 1.0) == pytest.approx(111_195, rel=1e-4)


def test_dbscan_finds_the_planted_clusters(planted):
    found = hotspots.clusters(planted, eps_m=150, min_samples=4)
    # centres: P + (0.0006 / 7, 0.0003 / 7) (six planted points and the pothole at P), Q + (0.0003, 0)
    assert [(c.cases, c.lat, c.lon) for c in found.clusters] == [
        (7, round(P[0] + 0.0006 / 7, 5), round(P[1] + 0.0003 / 7, 5)), (4, round(Q[0] + 0.0003, 5), Q[1])]
    big, small = found.clusters
    assert [(c["code"], c["cases"]) for c in big.categories] == [("urban.lighting.out", 6), ("urban.roads.pothole", 1)]
    assert big.area["code"] == "d1s1g1" and small.categories[0]["code"] == "urban.roads.pothole"
    # radius: P's farthest point is 0.000114° north (12.7 m) and 0.000057° east (5.5 m at 30.5°N) of
    # the centre: 13.8 m; Q's ends are 0.0003° (33.4 m) from its centre
    assert (big.radius_m, small.radius_m) == (14, 33)
    assert found.points == 14 and found.noise == 3
    # stricter: Q (four cases) is no longer a cluster; eps just short of the 2,224 m from P to Q:
    # two clusters still; beyond 2,000 m: refused
    assert [c.cases for c in hotspots.clusters(planted, eps_m=150, min_samples=5).clusters] == [7]
    assert [c.cases for c in hotspots.clusters(planted, eps_m=2_000, min_samples=4).clusters] == [7, 4]
    with pytest.raises(metrics.MetricsError):
        hotspots.clusters(planted, eps_m=2_500, min_samples=4)
    # the category filter: potholes only; Q and P's one pothole (alone: noise)
    pothole = int(cat("urban.roads.pothole"))
    assert [c.cases for c in hotspots.clusters(planted, eps_m=150, min_samples=4,
                                               category_key=pothole).clusters] == [4]


def test_cases_on_one_spot_weigh_as_many_points(planted):
    """Seven cases at P round to a few spots; with min_samples 7 they still make a cluster."""
    assert [c.cases for c in hotspots.clusters(planted, eps_m=150, min_samples=7).clusters] == [7]
    assert hotspots.clusters(planted, eps_m=150, min_samples=8).clusters == []


def test_the_map_lists_clusters_with_a_link_to_the_cases(planted, client):
    signed_in(client, "supervisor")
    r = client.get("/dashboards/map/", {"eps": "150", "min_samples": "4", "level": "grid"})
    assert r.status_code == 200
    rows = screen(r, "clusters")
    assert [row[:2] for row in rows[1:]] == [["1", "7"], ["2", "4"]]
    assert rows[1][5] == "和平一网格"
    assert rows[1][6] == f"{name('urban.lighting.out')} (6); {name('urban.roads.pothole')} (1)"
    assert 'href="/console/search/?area=d1s1g1&amp;category=urban.lighting.out"' in r.content.decode()
    exports_equal_screen(client, "map", "clusters", {"eps": "150", "min_samples": "4"}, rows)
    assert '"kind": "map"' in r.content.decode() and "/static/demo/areas.geojson" in r.content.decode()


def test_the_spots_clustered_are_capped_most_recent_first(planted):
    """Registered in order P, Q, the scattered three: the three and Q's four are the 7 latest spots."""
    capped = hotspots.clusters(planted, eps_m=150, min_samples=4, max_points=7)
    assert capped.truncated and capped.points == 7 and [c.cases for c in capped.clusters] == [4]
    capped = hotspots.clusters(planted, eps_m=150, min_samples=4, max_points=5)
    assert capped.truncated and capped.points == 5 and capped.clusters == []
    assert not hotspots.clusters(planted, eps_m=150, min_samples=4).truncated


def test_the_pages_on_a_warehouse_without_cases(city, client):
    refresh()
    signed_in(client, "supervisor")
    for page in ("categories", "deadlines", "channels", "map"):
        r = client.get(f"/dashboards/{page}/")
        assert r.status_code == 200, page
        assert "仓库中还没有工单" in r.content.decode() or "没有数据" in r.content.decode(), page
    assert screen(client.get("/dashboards/deadlines/"), "stages")[1][1:5] == ["0", "0", "0", "0"]
