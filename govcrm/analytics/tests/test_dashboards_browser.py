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
