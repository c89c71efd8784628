"""The portal in a real browser, in Chinese, on a phone-sized screen: submit, track, give feedback; axe on each page."""

import pytest

from govcrm.cases.models import Case
from govcrm.cases.workflow import CloseReason, Status
from govcrm.channels.models import Attachment

from .conftest import axe_violations, jpeg, to_follow_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def assert_accessible(page):
    assert axe_violations(page) == []


def test_a_citizen_submits_tracks_and_rates_a_request(city, live_server, zh_page, tmp_path):
    page = zh_page
    photo = tmp_path / "路灯.jpg"
    photo.write_bytes(jpeg((120, 90), "orange"))

    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("heading", level=1).inner_text() == "反映问题或咨询"
    assert_accessible(page)

    # The category search (HTMX) narrows the select to one leaf, which it selects.
    page.get_by_label("搜索分类").fill("路灯不亮")
    page.wait_for_selector("#category-hint:has-text('匹配 1 个分类')")
    assert page.get_by_label("诉求分类").input_value() == "urban.lighting.out"
    page.get_by_label("诉求内容").fill("和平街12号门口的路灯坏了三天，晚上很黑。")
    page.get_by_label("地址或地点").fill("和平街12号")
    page.get_by_label("照片", exact=True).set_input_files(str(photo))
    page.get_by_role("button", name="提交诉求").click()

    page.wait_for_selector("#case-number")
    number = page.locator("#case-number").inner_text().strip()
    code = page.locator("#query-code").inner_text().strip()
    case = Case.objects.get()
    assert (number, code) == (case.number, case.query_code)
    assert case.channel == "portal" and case.language == "zh-hans" and Attachment.objects.count() == 1
    assert_accessible(page)

    # Track it from a fresh start, by number and code.
    page.context.clear_cookies()
    page.goto(live_server.url + "/track/")
    page.get_by_label("工单编号").fill(number)
    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询").click()
    page.wait_for_selector("#case-status")
    assert page.locator("#case-status").inner_text() == "已受理"
    assert "已收到您的诉求。" in page.locator(".timeline").inner_text()
    assert_accessible(page)

    # The centre dispatches, the street office replies, the centre approves: the citizen rates it.
    to_follow_up(city, number, reply="路灯已于今日修复，感谢您的反映。")
    page.reload()
    assert page.locator("#case-status").inner_text() == "已答复，等待您的评价"
    assert "路灯已于今日修复" in page.locator("#case-reply").inner_text()
    assert page.locator("#case-unit").inner_text() == "和平街道办事处"
    assert_accessible(page)
    page.get_by_role("group", name="问题解决了吗？").get_by_label("是").check()
    page.get_by_role("group", name="您对办理情况满意吗？").get_by_label("是").check()
    page.get_by_label("4 – 好").check()
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_selector("#feedback-given")
    assert "谢谢！已记录您的评价。" in page.locator(".messages").inner_text()
    assert page.locator("#case-status").inner_text() == "已结案"
    assert_accessible(page)

    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.close_reason == CloseReason.FOLLOWED_UP
    assert (case.resolved, case.satisfied, case.rating) == (True, True, 4)


def test_a_refused_request_says_why_in_english_and_is_accessible(city, live_server, chromium):
    context = chromium.new_context(locale="en-GB")
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        page.get_by_label("Category", exact=True).select_option("urban.lighting.out")
        page.get_by_role("button", name="Send my request").click()  # the browser stops it: description required
        assert page.url == live_server.url + "/" and Case.objects.count() == 0
        page.get_by_label("Description", exact=True).fill("   ")
        page.get_by_role("button", name="Send my request").click()
        page.wait_for_selector("#error-summary")
        assert "Describe your request." in page.locator("#error-summary").inner_text()
        assert page.evaluate("document.activeElement.id") == "error-summary"
        assert Case.objects.count() == 0
        assert_accessible(page)
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["zh-CN", "en-GB"])
def test_the_other_pages_are_accessible(city, live_server, chromium, locale):
    context = chromium.new_context(locale=locale, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        for path in ("/track/", "/mine/", "/signin/"):
            page.goto(live_server.url + path)
            assert_accessible(page)
        page.goto(live_server.url + "/track/")
        page.locator("#id_number").fill("20000101000001")
        page.locator("#id_code").fill("000000")
        page.locator("button.btn-primary").click()
        page.wait_for_selector("#error-summary")
        assert_accessible(page)
    finally:
        context.close()
