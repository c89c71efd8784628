"""The dashboards in Debian's chromium: the charts render (a canvas with pixels drawn) in Chinese and
English, axe finds nothing, and the strict CSP is not violated."""

from __future__ import annotations

import pytest

from govcrm.analytics.warehouse.refresh import refresh
from govcrm.cases.tests.factories import move, register
from govcrm.channels.portal.tests.conftest import axe_violations, chromium  # noqa: F401 -- fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# A canvas counts as drawn when some of its pixels are not transparent.
DRAWN = """(sel) => [...document.querySelectorAll(sel + ' canvas')].map(c => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) n++; } return n; })"""


@pytest.fixture
def warehouse(city, settings, tmp_path):
    settings.GOVCRM_WAREHOUSE = tmp_path / "warehouse" / "browser.duckdb"
    agent, dispatcher = city.actor("agent"), city.actor("dispatcher")
    for i, channel in enumerate(["phone", "phone", "wechat"]):
        case = register(agent, description=f"路灯不亮 {i}", channel=channel)
        move(dispatcher, case, "dispatch", unit=city.street1.code)
    refresh()


def sign_in(page, base: str, username: str):
    page.goto(base + "/console/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("pass-12345")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/console/")


@pytest.mark.parametrize(("locale", "heading", "ranking"), [("zh-CN", "总览", "单位排名"),
                                                            ("en-GB", "Overview", "Unit rankings")])
def test_the_charts_render_in_both_languages(warehouse, live_server, chromium, locale, heading,  # noqa: F811
                                             ranking):
    context = chromium.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    csp = []
    page.on("console", lambda m: "Content Security Policy" in m.text and csp.append(m.text))
    try:
        sign_in(page, live_server.url, "supervisor")
        if locale.startswith("en"):
            page.locator("#language-select").select_option("en")
            page.get_by_role("button", name="切换").click()
        page.goto(live_server.url + "/dashboards/")
        assert page.get_by_role("heading", level=1).inner_text() == heading
        page.wait_for_selector("[data-chart='chart-channels'][data-drawn] canvas")
        for chart in ("volumes", "rates", "channels"):
            drawn = page.evaluate(DRAWN, f"[data-chart='chart-{chart}']")
            assert drawn and drawn[0] > 500, (chart, drawn)
        assert axe_violations(page) == []
        page.get_by_role("link", name=ranking).first.click()
        page.wait_for_selector("[data-chart='chart-ranking'][data-drawn] canvas")
        assert page.evaluate(DRAWN, "[data-chart='chart-ranking']")[0] > 500
        assert page.locator("#table-ranking tbody tr").count() == 1
        assert axe_violations(page) == []
        assert csp == []
    finally:
        context.close()


# Pixels of the clusters' red circles (itemStyle rgba(203, 24, 29, 0.75) in dashboards.js).
RED = """(sel) => { const c = document.querySelector(sel + ' canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 0 && d[i] > 150 && d[i + 1] < 90 && d[i + 2] < 90) n++; } return n; }"""


@pytest.fixture
def located(city, settings, tmp_path):
    """Cases in two categories, five of them within 30 m of each other in district d1 (a cluster
    at the default 250 m and 5 cases), and one in d2; dispatched, so that deadlines are due."""
    settings.GOVCRM_WAREHOUSE = tmp_path / "warehouse" / "browser.duckdb"
    agent, dispatcher = city.actor("agent"), city.actor("dispatcher")
    for i in range(5):
        case = register(agent, description=f"路灯不亮 {i}", channel="phone" if i % 2 else "wechat",
                        lat=30.45 + 0.0001 * i, lon=114.05)
        move(dispatcher, case, "dispatch", unit=city.street1.code)
    register(agent, category="urban.roads.pothole", description="路面坑洼", area="d2", lat=30.55, lon=114.3)
    refresh()


def click_at(page, lon: float, lat: float) -> None:
    """Click the map where ECharts draws (lon, lat)."""
    x, y = page.evaluate("""([lon, lat]) => echarts.getInstanceByDom(
        document.querySelector("[data-chart='chart-map']")).convertToPixel({geoIndex: 0}, [lon, lat])""", [lon, lat])
    box = page.locator("[data-chart='chart-map']").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


PAGES = [  # (path, charts, the heading in Chinese, in English)
    ("categories/", ("volumes", "rates"), "分类", "Categories"),
    ("deadlines/", ("stages", "units", "categories"), "时限情况", "Deadline performance"),
    ("channels/", ("share", "months", "rates"), "渠道构成", "Channel mix"),
    ("map/?level=district", ("map",), "诉求地图与热点", "Map of requests and hotspots"),
]


@pytest.mark.parametrize("locale", ["zh-CN", "en-GB"])
def test_the_new_pages_render_their_charts_in_both_languages(located, live_server, chromium, locale):  # noqa: F811
    context = chromium.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    csp = []
    page.on("console", lambda m: "Content Security Policy" in m.text and csp.append(m.text))
    english = locale.startswith("en")
    try:
        sign_in(page, live_server.url, "analyst")
        if english:
            page.locator("#language-select").select_option("en")
            page.get_by_role("button", name="切换").click()
        for path, charts, zh, en in PAGES:
            page.goto(f"{live_server.url}/dashboards/{path}")
            assert page.get_by_role("heading", level=1).inner_text() == (en if english else zh)
            for chart in charts:
                sel = f"[data-chart='chart-{chart}']"
                page.wait_for_selector(f"{sel}[data-drawn] canvas")
                drawn = page.evaluate(DRAWN, sel)
                assert drawn and drawn[0] > 500, (path, chart, drawn)
            assert axe_violations(page) == [], path
        # the map: both districts coloured, the five cases' cluster drawn in red and listed
        assert page.evaluate(RED, "[data-chart='chart-map']") > 20
        assert page.locator("#table-clusters tbody tr").count() == 1
        assert page.locator("#table-clusters tbody tr td").nth(1).inner_text() == "5"
        assert page.locator("#table-areas tbody tr").count() == 2
        # a click on district d1 (the demo city's box 30.4–30.6 N, 114.0–114.2 E) shows its streets;
        # a click on the cluster opens the console's search for its area and category
        click_at(page, 114.15, 30.55)
        page.wait_for_url("**level=street**")
        page.wait_for_selector("[data-chart='chart-map'][data-drawn] canvas")
        assert page.locator("#table-areas tbody tr td").nth(1).inner_text() == "d1s1"
        click_at(page, 114.05, 30.4502)
        page.wait_for_url("**/console/search/?area=d1s1g1&category=urban.lighting.out")
        # drill down on the categories page: a level-1 category links to its level 2
        page.goto(f"{live_server.url}/dashboards/categories/")
        page.locator("#table-categories tbody a").first.click()
        page.wait_for_selector("[data-chart='chart-volumes'][data-drawn] canvas")
        assert page.locator(".dash-crumbs li").count() == 2
        assert csp == []
    finally:
        context.close()
