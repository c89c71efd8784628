"""The knowledge base in a real browser: articles beside the phone intake form (Chinese), the
portal's "Does this answer your question?" with a yes (English and Chinese), the manager's pages;
axe and the Content-Security-Policy on each page."""

import pytest

from govcrm.channels.portal.tests.conftest import axe_violations, chromium  # noqa: F401 -- fixture
from govcrm.knowledge.models import KnowledgeGap, SelfServiceOutcome
from govcrm.knowledge.samples import samples_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _page(chromium, locale):  # noqa: F811 -- the fixture imported above
    context = chromium.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    return page


def sign_in(page, base: str, username: str):
    # Leave the previous page first: an HTMX request of it still in flight (the intake form's
    # proposals) answered "signed out" once the cookies are cleared would navigate to the login page
    # itself and abort this navigation (net::ERR_ABORTED, seen once in the PostgreSQL pass).
    page.goto("about:blank")
    page.goto(base + "/console/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("pass-12345")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/console/")


def test_agent_sees_articles_while_typing_and_manager_pages_work(city, live_server, chromium):  # noqa: F811
    samples_ensure(fallback_unit=city.centre)
    page = _page(chromium, "zh-CN")
    sign_in(page, live_server.url, "agent")
    page.goto(live_server.url + "/console/intake/")
    page.get_by_label("诉求内容").fill("市民来电询问今年暖气费什么时候交，多少钱一平米")
    page.wait_for_selector("#intake-articles summary")
    assert page.locator("#intake-articles summary").first.inner_text() == "供暖费收费标准与缴纳"
    page.locator("#intake-articles summary").first.click()
    assert "24元" in page.locator("#intake-articles .kb-body").first.inner_text()
    assert axe_violations(page) == []

    page.context.clear_cookies()
    sign_in(page, live_server.url, "supervisor")
    page.goto(live_server.url + "/console/knowledge/?q=宠物狗办证")
    assert "知识缺口" in page.locator("main").inner_text()
    assert KnowledgeGap.objects.get().query == "宠物狗办证"
    assert axe_violations(page) == []
    for path in ("/console/knowledge/gaps/", "/console/knowledge/deflection/", "/console/knowledge/new/"):
        page.goto(live_server.url + path)
        assert axe_violations(page) == [], path
    page.goto(live_server.url + "/console/knowledge/")
    page.get_by_role("link", name="heating-fees").click()
    assert axe_violations(page) == []
    page.get_by_role("link", name="撰写新草稿").first.click()
    page.get_by_label("标题").fill("供暖费收费标准（2026年）")
    page.get_by_role("button", name="保存草稿").click()
    page.get_by_role("button", name="发布").first.click()
    page.wait_for_selector("[role=status], .alert")
    assert "供暖费收费标准（2026年）" in page.locator("main").inner_text()
    assert page.csp_violations == []


@pytest.mark.parametrize(("locale", "text", "yes"), [
    ("en-US", "Since this morning there is no water in my building", "Yes, this answers my question"),
    ("zh-CN", "我们小区从早上开始停水了，什么时候来水", "是的，已解答我的问题"),
])
def test_citizen_says_an_offered_article_answers_the_question(city, live_server, chromium, locale, text, yes):  # noqa: F811
    samples_ensure(fallback_unit=city.centre)
    page = _page(chromium, locale)
    page.goto(live_server.url + "/")
    page.locator("#id_description").fill(text)
    page.wait_for_selector("#kb-offers summary")
    assert axe_violations(page) == []
    page.locator("#kb-offers summary").first.click()
    page.get_by_role("button", name=yes).first.click()
    page.wait_for_url("**/answered/")
    assert axe_violations(page) == []
    outcome = SelfServiceOutcome.objects.get()
    assert (outcome.article.key, outcome.outcome, outcome.submitted) == ("water-outage", "resolved", False)
    assert page.csp_violations == []
