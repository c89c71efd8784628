"""The dispatch loop in a real browser (Chinese): suggestions while the agent types, the case card,
dispatch as suggested, the quality page; axe on each page."""

import pytest

from govcrm.cases.models import Case
from govcrm.cases.tests.factories import dispatch_rule, register
from govcrm.cases.workflow import Status
from govcrm.channels.intake import UNCLASSIFIED
from govcrm.channels.portal.tests.conftest import axe_violations, chromium  # noqa: F401 -- fixture
from govcrm.intelligence import classifier, store
from govcrm.knowledge.tests.test_browser import sign_in

from .factories import LIGHT, WATER, labelled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def page(chromium):  # noqa: F811 -- the fixture imported above
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    yield page
    context.close()


@pytest.fixture
def model(settings, tmp_path):
    settings.GOVCRM_HOME = tmp_path
    docs, labels = labelled(20)
    return store.model_save(trained=classifier.train(docs, labels, folds=0, jobs=1), source="test")


def test_the_agent_picks_a_suggested_category_and_the_dispatcher_dispatches_as_suggested(
        city, model, live_server, page):
    dispatch_rule(LIGHT, city.street1)
    sign_in(page, live_server.url, "agent")
    page.goto(live_server.url + "/console/intake/")
    page.get_by_label("诉求内容").fill("小区突然停水两天了，也没有任何通知")
    page.wait_for_selector("#intake-suggestions [data-category]")
    first = page.locator("#intake-suggestions [data-category]").first
    assert first.get_attribute("data-category") == WATER
    first.click()
    assert page.locator("#id_category").input_value() == WATER
    assert axe_violations(page) == []

    case = register(city.actor("agent"), category=UNCLASSIFIED, description="和平街路灯不亮，晚上全黑", channel="sms")
    page.context.clear_cookies()
    sign_in(page, live_server.url, "dispatcher")
    page.goto(f"{live_server.url}/console/cases/{case.number}/")
    card = page.locator("section[aria-labelledby=h-suggestion]")
    assert "路灯不亮" in card.inner_text() and "和平街道办事处" in card.inner_text()
    assert axe_violations(page) == []
    page.get_by_role("button", name="按建议派单").click()
    page.wait_for_selector(".alert, [role=status]")
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.lead_unit == city.street1 and case.category.code == LIGHT

    page.goto(live_server.url + "/console/dispatch/")
    assert page.get_by_role("heading", level=1).inner_text() == "派单质量"
    assert axe_violations(page) == []
    assert Case.objects.filter(status=Status.DISPATCHED).count() == 1
    assert page.csp_violations == []  # the pages run under the strict policy without breaking it
