"""The portal-use and segment pages in Debian's chromium: the charts draw pixels in Chinese and
English, axe finds nothing, the strict CSP holds — with page views recorded by the real middleware
from the same browser's portal visits."""

from __future__ import annotations

import datetime as dt

import pytest

from govcrm.analytics.warehouse.refresh import refresh
from govcrm.cases.tests.factories import register
from govcrm.channels.portal.tests.conftest import axe_violations, chromium  # noqa: F401 -- fixture
from govcrm.knowledge.tests.factories import ArticleVersionFactory
from govcrm.webmining import recorder
from govcrm.webmining.models import PageView

from .test_behaviour import application, service
from .test_dashboards_browser import DRAWN, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def visited(city, settings, tmp_path, live_server, chromium):  # noqa: F811
    """A citizen's browser visits the portal (recorded by the middleware), applications exist, the
    warehouse is refreshed."""
    settings.GOVCRM_WAREHOUSE = tmp_path / "warehouse" / "browser.duckdb"
    settings.GOVCRM_WEB_MINING = True
    settings.GOVCRM_WEB_MINING_FLUSH_SECONDS = 0
    recorder.BUFFER.take()
    article = ArticleVersionFactory(title="居住证办理指南", body="居住证 办理 材料").article
    context = chromium.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        page.goto(live_server.url + "/help/?q=居住证")
        page.locator(f"a[href$='/help/{article.pk}/']").first.click()
        page.wait_for_url(f"**/help/{article.pk}/")
        page.goto(live_server.url + "/help/?q=狗证")
    finally:
        context.close()
    recorder.BUFFER.flush()
    assert PageView.objects.filter(object_ref=str(article.pk), search_query="居住证").exists()
    citizen = register(city.actor("agent")).citizen
    item = service(city)
    now = dt.datetime.now(dt.UTC)
    for i, status in enumerate(["started", "submitted", "approved"]):
        application(item, citizen, f"SQ2026112700{i:03d}", status, started=now,
                    submitted=None if status == "started" else now, decided=now if status == "approved" else None)
    refresh()
    return article


@pytest.mark.parametrize(("locale", "web", "segments"), [("zh-CN", "门户使用情况", "市民细分"),
                                                         ("en-GB", "Portal use", "Citizen segments")])
def test_portal_use_and_segments_render(visited, live_server, chromium, locale, web, segments):  # noqa: F811
    context = chromium.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    csp = []
    page.on("console", lambda m: "Content Security Policy" in m.text and csp.append(m.text))
    try:
        sign_in(page, live_server.url, "analyst")
        if locale.startswith("en"):
            page.locator("#language-select").select_option("en")
            page.get_by_role("button", name="切换").click()
        page.goto(live_server.url + "/dashboards/web/")
        assert page.get_by_role("heading", level=1).inner_text() == web
        page.wait_for_selector("[data-chart='chart-objects'][data-drawn] canvas")
        for chart in ("funnel", "objects"):
            drawn = page.evaluate(DRAWN, f"[data-chart='chart-{chart}']")
            assert drawn and drawn[0] > 500, (chart, drawn)
        assert "狗证" in page.locator("#table-nothing_found").inner_text()
        assert page.locator("#table-funnel tbody tr td").nth(1).inner_text() == "3"
        assert axe_violations(page) == []
        page.get_by_role("link", name=segments).first.click()
        page.wait_for_selector("[data-chart='chart-segments'][data-drawn] canvas")
        assert page.evaluate(DRAWN, "[data-chart='chart-segments']")[0] > 500
        assert axe_violations(page) == []
        assert csp == []
    finally:
        context.close()
