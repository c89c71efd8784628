"""The console's main flow end to end in a real browser (Debian Chromium), each role in turn, in
Chinese and in English: a phone intake with the caller looked up → dispatch by hand → accept →
first contact → reply → review → follow-up → closed; and a return 退单 re-dispatched to another unit.

Each role signs in through the login form; staff profiles say zh-hans, so for English each role
switches the language in the top bar once (the switch is saved on the profile, so their next
sign-in is in English already). After every move the status is checked on the page and in the
database; axe-core checks the intake page and the case pages.
"""

import re

import pytest
from django.db import connections

from govcrm.cases.models import Case
from govcrm.cases.tests.factories import LEAF, OTHER_LEAF, move, register
from govcrm.cases.workflow import CloseReason, ReturnReason, Status
from govcrm.channels.portal.tests.conftest import axe_violations, chromium  # noqa: F401 -- fixture
from govcrm.organization.models import StaffProfile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LANGUAGES = ["zh-hans", "en"]
BROWSER_LOCALE = {"zh-hans": "zh-CN", "en": "en-GB"}

# The console's texts, as its catalogues have them (govcrm/console/locale, govcrm/locale).
TEXT = {
    "zh-hans": {
        "language": "语言", "switch": "切换",
        "take_a_call": "来电受理", "phone": "来电号码", "look_up": "查询来电人", "returning": "老来电人",
        "earlier": "此前工单 1 件", "find_category": "查找分类", "category_q": "路灯不亮", "one_match": "匹配 1 个分类",
        "category": "诉求分类", "case_type": "诉求类型", "complaint": "投诉", "description": "诉求内容",
        "register": "登记工单",
        "dispatch": "派单", "lead_unit": "主办", "accept": "签收",
        "contact": "联系市民", "contact_method": "联系方式", "phone_call": "电话",
        "reply": "办结答复", "reply_text": "答复市民", "review": "审核通过",
        "follow_up": "回访", "resolved": "问题是否解决？", "satisfied": "市民是否满意？", "yes": "是",
        "rating": "评分（1 = 很差，5 = 很好）",
        "return": "退单", "return_reason": "退单原因", "wrong_area": "不在本单位辖区",
        "done": "已完成：{}。",
        "status": {
            Status.REGISTERED: "受理", Status.DISPATCHED: "已派单", Status.ACCEPTED: "已签收",
            Status.IN_PROGRESS: "办理中", Status.REPLIED: "已答复", Status.FOLLOW_UP: "待回访",
            Status.CLOSED: "已结案", Status.RETURNED: "已退单",
        },
        "description_text": "和平街12号门口的路灯坏了三天，晚上很黑，老人出门不方便。",
        "reply_text_value": "路灯已于今日更换灯泡修复，感谢您的反映。",
    },
    "en": {
        "language": "Language", "switch": "Switch",
        "take_a_call": "Take a call", "phone": "Caller's phone number", "look_up": "Look up the caller",
        "returning": "Returning caller", "earlier": "1 earlier case",
        "find_category": "Find a category", "category_q": "street light out", "one_match": "1 category matches",
        "category": "Category", "case_type": "Case type", "complaint": "Complaint",
        "description": "What the caller says", "register": "Register the case",
        "dispatch": "Dispatch", "lead_unit": "Lead unit", "accept": "Accept",
        "contact": "Record contact with the citizen", "contact_method": "How was the citizen contacted?",
        "phone_call": "Phone call",
        "reply": "Reply", "reply_text": "Reply to the citizen", "review": "Approve the reply",
        "follow_up": "Record the follow-up", "resolved": "Was the problem resolved?",
        "satisfied": "Is the citizen satisfied?", "yes": "Yes", "rating": "Rating (1 = poor, 5 = very good)",
        "return": "Return", "return_reason": "Why is it returned?", "wrong_area": "Outside our territory",
        "done": "Done: {}.",
        "status": {
            Status.REGISTERED: "Registered", Status.DISPATCHED: "Dispatched", Status.ACCEPTED: "Accepted",
            Status.IN_PROGRESS: "In progress", Status.REPLIED: "Replied", Status.FOLLOW_UP: "Follow-up",
            Status.CLOSED: "Closed", Status.RETURNED: "Returned",
        },
        "description_text": "The street light outside No. 12 Heping Street has been out for three days.",
        "reply_text_value": "The street light was repaired today. Thank you for telling us.",
    },
}


@pytest.fixture(params=LANGUAGES)
def language(request):
    return request.param


@pytest.fixture
def page(chromium, language):  # noqa: F811 -- the fixture imported above
    context = chromium.new_context(locale=BROWSER_LOCALE[language], viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()
    # The test's ORM calls while the browser ran used connection objects of Playwright's context
    # (see the chromium fixture); close them here, or PostgreSQL refuses to drop the test database.
    connections.close_all()


def field(label: str) -> re.Pattern:
    """A form field's accessible name: its label, then the form's label suffix (":") if any."""
    return re.compile(rf"^{re.escape(label)}\s*[:：]?$")


class Console:
    """The console as one staff member after another sees it, in one language."""

    def __init__(self, page, base: str, language: str):
        self.page, self.base, self.language, self.t = page, base, language, TEXT[language]

    def sign_in(self, username: str) -> None:
        page = self.page
        page.goto("about:blank")  # the last page's HTMX requests end here (see knowledge's sign_in)
        page.context.clear_cookies()
        page.goto(self.base + "/console/login/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill("pass-12345")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/console/")
        shown = page.locator("html").get_attribute("lang")
        if shown != self.language:
            # The top bar's switch, labelled in the language the page is in now (the profile's).
            page.get_by_label(TEXT[shown]["language"], exact=True).select_option(self.language)
            page.get_by_role("button", name=TEXT[shown]["switch"], exact=True).click()
            page.wait_for_selector(f"html[lang='{self.language}']")
        assert page.locator("html").get_attribute("lang") == self.language

    def open_case(self, number: str) -> None:
        self.page.goto(f"{self.base}/console/cases/{number}/")
        self.page.wait_for_selector("#case-panel")

    def move(self, name: str, label: str):
        """Open the move's <details> and return it (its form's fields are found by their labels)."""
        details = self.page.locator(f"#move-{name}")
        summary = details.locator("summary")
        assert summary.inner_text() == label
        # The swapped case panel loads its incident slot (hx-trigger="load") and the page shifts when
        # it arrives: a click during that shift can miss the summary (seen once in CI, under load).
        self.page.wait_for_load_state("networkidle")
        for _attempt in range(3):
            summary.click()
            if details.get_attribute("open") is not None:
                return details
            self.page.wait_for_timeout(200)
        raise AssertionError(f"the move {name} did not open")

    def submit(self, details, label: str) -> None:
        details.get_by_role("button", name=label, exact=True).click()

    def expect_status(self, case: Case, status: str) -> None:
        """The case panel (swapped by HTMX) shows the status, and so does the database."""
        self.page.wait_for_selector(f"#case-panel .case-badges .status-{status}")
        assert self.page.locator("#case-panel .case-badges .status").inner_text() == self.t["status"][status]
        case.refresh_from_db()
        assert case.status == status

    def expect_done(self, label: str) -> None:
        assert self.t["done"].format(label) in self.page.locator("#case-panel [role=status]").inner_text()


def test_phone_intake_to_closed_case_each_role_in_turn(city, live_server, page, language):
    t = TEXT[language]
    # A returning caller: an earlier case (dealt with at first contact) made through the real actions.
    earlier = register(city.actor("agent"), category=OTHER_LEAF,
                       citizen={"name": "张三", "phone": "+8613800138000"})
    move(city.actor("agent"), earlier, "resolve_first_contact", reply="已告知市民投诉渠道。")
    console = Console(page, live_server.url, language)

    # 1. The agent takes the call: looks the caller up, fills in the case, registers it.
    console.sign_in("agent")
    page.get_by_role("link", name=t["take_a_call"], exact=True).click()
    page.wait_for_url("**/console/intake/")
    assert page.get_by_role("heading", level=1).inner_text() == t["take_a_call"]
    page.get_by_label(field(t["phone"])).fill("138 0013 8000")
    page.get_by_role("button", name=t["look_up"], exact=True).click()
    page.wait_for_selector(f"#caller h2:has-text('{t['returning']}')")
    caller = page.locator("#caller").inner_text()
    assert "张三" in caller and earlier.number in caller and t["earlier"] in caller
    page.get_by_label(t["find_category"]).fill(t["category_q"])
    page.wait_for_selector(f"#category-hint:has-text('{t['one_match']}')")
    assert page.get_by_label(field(t["category"])).input_value() == LEAF
    page.get_by_label(field(t["case_type"])).select_option(label=t["complaint"])
    with page.expect_response(lambda r: "/suggest" in r.url):  # the classifier's hints (none: no model)
        page.get_by_label(field(t["description"])).fill(t["description_text"])
    assert axe_violations(page) == []
    page.get_by_role("button", name=t["register"], exact=True).click()
    page.wait_for_url("**/console/cases/*/")
    case = Case.objects.exclude(pk=earlier.pk).get()
    assert page.url.endswith(f"/console/cases/{case.number}/")
    console.expect_status(case, Status.REGISTERED)
    assert case.channel == "phone" and case.category.code == LEAF and case.citizen_id == earlier.citizen_id
    assert case.lead_unit is None  # no dispatch rule for this category: the dispatcher dispatches by hand
    assert axe_violations(page) == []

    # 2. The dispatcher dispatches it to the Heping street office.
    console.sign_in("dispatcher")
    console.open_case(case.number)
    dispatch = console.move("dispatch", t["dispatch"])
    dispatch.get_by_label(field(t["lead_unit"])).select_option(city.street1.code)
    console.submit(dispatch, t["dispatch"])
    console.expect_status(case, Status.DISPATCHED)
    console.expect_done(t["dispatch"])
    assert case.lead_unit == city.street1

    # 3. The street office's handler accepts, records the first contact, replies.
    console.sign_in("street_handler")
    console.open_case(case.number)
    assert axe_violations(page) == []
    console.submit(console.move("accept", t["accept"]), t["accept"])
    console.expect_status(case, Status.ACCEPTED)
    contact = console.move("contact", t["contact"])
    contact.get_by_label(field(t["contact_method"])).select_option(label=t["phone_call"])
    console.submit(contact, t["contact"])
    console.expect_status(case, Status.IN_PROGRESS)
    assert case.first_contact_at is not None
    reply = console.move("reply", t["reply"])
    reply.get_by_label(field(t["reply_text"])).fill(t["reply_text_value"])
    console.submit(reply, t["reply"])
    console.expect_status(case, Status.REPLIED)
    assert case.reply == t["reply_text_value"]

    # 4. The dispatcher reviews the reply and approves it.
    console.sign_in("dispatcher")
    console.open_case(case.number)
    assert t["reply_text_value"] in page.locator(".case-details").inner_text()
    console.submit(console.move("review", t["review"]), t["review"])
    console.expect_status(case, Status.FOLLOW_UP)

    # 5. The agent calls the citizen back and records the follow-up: resolved, satisfied; closed.
    console.sign_in("agent")
    console.open_case(case.number)
    follow_up = console.move("follow_up", t["follow_up"])
    follow_up.get_by_role("group", name=field(t["resolved"])).get_by_label(t["yes"], exact=True).check()
    follow_up.get_by_role("group", name=field(t["satisfied"])).get_by_label(t["yes"], exact=True).check()
    follow_up.get_by_label(field(t["rating"])).select_option("5")
    console.submit(follow_up, t["follow_up"])
    console.expect_status(case, Status.CLOSED)
    console.expect_done(t["follow_up"])
    assert (case.close_reason, case.resolved, case.satisfied, case.rating) == (CloseReason.FOLLOWED_UP, True, True, 5)
    assert axe_violations(page) == []


def test_a_return_is_re_dispatched_to_another_unit(city, live_server, page, language):
    t = TEXT[language]
    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit=city.street2.code)  # the wrong street office
    console = Console(page, live_server.url, language)

    # 1. The Anding street office's handler returns it: outside their territory.
    console.sign_in("street2_handler")
    console.open_case(case.number)
    console.expect_status(case, Status.DISPATCHED)
    back = console.move("return", t["return"])
    back.get_by_label(field(t["return_reason"])).select_option(label=t["wrong_area"])
    console.submit(back, t["return"])
    console.expect_status(case, Status.RETURNED)
    console.expect_done(t["return"])
    # The unit still sees the case it had, but can no longer accept or return it.
    assert page.locator("#move-accept, #move-return").count() == 0
    assert case.return_count == 1 and case.assignments.filter(active=True).count() == 0
    assert case.events.get(action="return").reason_code == ReturnReason.WRONG_AREA

    # 2. The dispatcher sees why and re-dispatches to the Heping street office.
    console.sign_in("dispatcher")
    console.open_case(case.number)
    console.expect_status(case, Status.RETURNED)
    assert t["wrong_area"] in page.locator(".case-timeline").inner_text()
    assert axe_violations(page) == []
    dispatch = console.move("dispatch", t["dispatch"])
    dispatch.get_by_label(field(t["lead_unit"])).select_option(city.street1.code)
    console.submit(dispatch, t["dispatch"])
    console.expect_status(case, Status.DISPATCHED)
    assert case.lead_unit == city.street1 and case.dispatch_count == 2

    # 3. The Heping street office's handler accepts it.
    console.sign_in("street_handler")
    console.open_case(case.number)
    console.submit(console.move("accept", t["accept"]), t["accept"])
    console.expect_status(case, Status.ACCEPTED)
    assert case.lead_unit == city.street1
    assert StaffProfile.objects.get(user=city.users["street_handler"]).language == language
