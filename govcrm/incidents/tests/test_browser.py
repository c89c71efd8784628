"""Duplicate incidents and process mining in a real browser: proposals while the agent types (Chinese),
merging from the case page, the process-mining page (English); axe and the Content-Security-Policy."""

import pytest

from govcrm.cases.models import Case
from govcrm.cases.tests.factories import move, register
from govcrm.channels.portal.tests.conftest import axe_violations, chromium  # noqa: F401 -- fixture
from govcrm.knowledge.tests.test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _page(chromium, locale):  # noqa: F811 -- the fixture imported above
    context = chromium.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    return page


def test_proposals_while_typing_then_merge_from_the_case_page(city, live_server, chromium):  # noqa: F811
    agent = city.actor("agent")
    lead = register(agent, description="和平街12号的路灯坏了，晚上一片漆黑", lat=39.9, lon=116.4)
    page = _page(chromium, "zh-CN")
    sign_in(page, live_server.url, "agent")
    page.goto(live_server.url + "/console/intake/")
    page.locator("#id_lat").fill("39.9001")
    page.locator("#id_lon").fill("116.4001")
    page.get_by_label("诉求内容").fill("和平街12号门口路灯坏了三天")
    page.wait_for_selector("#incident-similar .incident-item")
    item = page.locator("#incident-similar .incident-item").first.inner_text()
    assert lead.number in item and "相距" in item and "路灯" in item
    assert axe_violations(page) == []

    new = register(agent, description="和平街12号门口路灯坏了三天", lat=39.9001, lon=116.4001)
    page.context.clear_cookies()
    sign_in(page, live_server.url, "dispatcher")
    page.goto(live_server.url + f"/console/cases/{new.number}/")
    page.wait_for_selector("#incident-panel .incident-item")
    assert axe_violations(page) == []
    page.get_by_role("button", name=f"将本工单并入 {lead.number}").click()
    page.wait_for_url(f"**/console/cases/{lead.number}/")
    page.wait_for_selector("#incident-panel .incident-members")
    assert new.number in page.locator("#incident-panel").inner_text()
    assert Case.objects.get(pk=new.pk).merged_into_id == lead.pk
    assert axe_violations(page) == []
    assert page.csp_violations == []


def test_process_mining_page_draws_the_map(city, live_server, chromium):  # noqa: F811
    agent, dispatcher, handler = city.actor("agent"), city.actor("dispatcher"), city.actor("street_handler")
    for i in range(3):
        case = register(agent)
        move(dispatcher, case, "dispatch", unit="gov-d1s1")
        if i == 0:
            move(handler, case, "return", reason_code="not_our_duty", reason="不归我们")
            move(dispatcher, case, "arbitrate", reason="属于街道")
        move(handler, case, "accept")
    page = _page(chromium, "en-US")
    sign_in(page, live_server.url, "supervisor")
    page.locator("nav a[href='/console/mining/']").click()  # the menu link, in the staff member's language
    page.wait_for_selector("svg.process-map")
    assert page.locator("svg.process-map path").count() >= 4
    box = page.locator("svg.process-map").bounding_box()
    assert box["width"] > 300 and box["height"] > 150
    assert page.locator("#mining-loops tbody tr").count() >= 5  # total, headings, category, unit, month
    assert axe_violations(page) == []
    assert page.csp_violations == []
