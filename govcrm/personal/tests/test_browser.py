"""Personalised service in a real browser: a citizen's "For you" in English and Chinese, and the agent's
next best action loaded by HTMX beside the caller lookup; axe and the Content-Security-Policy on each page."""

import re

import pytest
from django.core import mail

from govcrm.channels.portal.tests.conftest import axe_violations, chromium  # noqa: F401 -- fixture

from .factories import EMAIL, world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _page(chromium, locale):  # noqa: F811 -- the fixture imported above
    context = chromium.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    return page


@pytest.mark.parametrize(("locale", "heading", "reason"), [
    ("en-US", "For you", "People who applied for “Birth registration” also applied for “Childcare subsidy”."),
    ("zh-CN", "为您推荐", "申请了“新生儿出生登记”的市民也申请了“育儿补贴申领”。"),
])
def test_citizen_signs_in_and_sees_reminders_and_suggestions(city, live_server, chromium, locale, heading,  # noqa: F811
                                                             reason):
    world(city)
    page = _page(chromium, locale)
    page.goto(live_server.url + "/for-you/")
    assert page.locator("[data-service]").count() == 0  # not signed in: nothing personal
    assert axe_violations(page) == []
    page.goto(live_server.url + "/signin/")
    page.locator("#id_identity").fill(EMAIL)
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("#id_code")
    page.locator("#id_code").fill(re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1))
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(live_server.url + "/")
    block = page.locator(".personal-block")
    assert heading in block.locator("h2").inner_text()
    assert reason in block.inner_text()
    assert axe_violations(page) == []
    page.goto(live_server.url + "/for-you/")
    main = page.locator("main").inner_text()
    assert reason in main
    assert page.locator('[data-notice="renewal:permit-endorsement"]').count() == 1
    assert page.locator('[data-notice="age:senior-card"]').count() == 1
    assert axe_violations(page) == []
    assert page.csp_violations == []


def test_agent_sees_the_next_best_action_after_the_lookup(city, live_server, chromium):  # noqa: F811
    world(city)
    page = _page(chromium, "zh-CN")
    page.goto(live_server.url + "/console/login/")
    page.locator("#id_username").fill("agent")
    page.locator("#id_password").fill("pass-12345")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/console/")
    page.goto(live_server.url + "/console/intake/")
    page.locator("#id_phone").fill("13800138000")
    page.locator("#id_phone").dispatch_event("change")
    page.wait_for_selector('#nba [data-service="childcare-subsidy"]')
    panel = page.locator("#nba").inner_text()
    assert "建议操作" in panel and "育儿补贴申领" in panel and "居住证签注" in panel
    assert axe_violations(page) == []
    assert page.csp_violations == []
