"""Applying online in a real browser (Chinese and English), and the process diagram in the console
(bpmn-js, the current step highlighted); axe and the Content-Security-Policy on each page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail

from govcrm.channels.portal.tests.conftest import axe_violations, chromium  # noqa: F401 -- fixture
from govcrm.services.models import Application

from .factories import PDF, id_number, world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LABELS = {
    "zh-CN": {"name": "老人姓名", "id": "公民身份号码", "address": "居住地址", "years": "本市户籍年限（年）",
              "id_card": "申请人居民身份证", "hukou": "户口簿", "submit": "提交申请", "submitted": "已提交",
              "bad_id": "请输入18位公民身份号码。"},
    "en-US": {"name": "Name of the senior", "id": "Resident ID number", "address": "Address of residence",
              "years": "Years registered in the city", "id_card": "The applicant's ID card",
              "hukou": "Household register", "submit": "Submit the application", "submitted": "Submitted",
              "bad_id": "Enter the 18-character resident ID number."},
}


def _page(chromium, locale):  # noqa: F811 -- the fixture imported above
    context = chromium.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    return page


def _portal_sign_in(page, base, email):
    page.goto(base + "/signin/")
    page.locator("input[name=identity]").fill(email)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/signin/code/")
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    page.locator("input[name=code]").fill(code)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/mine/")


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_citizen_applies_online_and_the_unit_sees_the_diagram(live_server, chromium, tmp_path, locale):  # noqa: F811
    world()
    t = LABELS[locale]
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(PDF)
    page = _page(chromium, locale)
    _portal_sign_in(page, live_server.url, "wang@example.cn")
    page.goto(live_server.url + "/services/")
    assert axe_violations(page) == []
    page.goto(live_server.url + "/services/senior-allowance/")
    assert axe_violations(page) == []
    page.goto(live_server.url + "/services/senior-allowance/apply/")
    page.get_by_label(t["name"]).fill("李奶奶")
    page.get_by_label(t["id"]).fill("11010119400301")  # too short: refused, nothing stored
    page.get_by_label(t["address"]).fill("和平街道1号")
    page.get_by_label(t["years"]).fill("40")
    page.get_by_label(t["id_card"]).set_input_files(str(pdf))
    page.get_by_label(t["hukou"]).set_input_files(str(pdf))
    page.locator("#f-id_number").evaluate("el => el.removeAttribute('pattern')")
    page.get_by_role("button", name=t["submit"]).click()
    assert t["bad_id"] in page.locator("#error-summary").inner_text()
    assert Application.objects.count() == 0
    assert axe_violations(page) == []
    page.get_by_label(t["id"]).fill(id_number(dt.date(1940, 3, 1)))
    page.get_by_label(t["id_card"]).set_input_files(str(pdf))
    page.get_by_label(t["hukou"]).set_input_files(str(pdf))
    page.get_by_role("button", name=t["submit"]).click()
    page.wait_for_url("**/services/applications/*/")
    assert page.locator("#application-status").inner_text() == t["submitted"]
    assert axe_violations(page) == []
    application = Application.objects.get()
    assert page.csp_violations == []

    staff = _page(chromium, locale)
    staff.goto(live_server.url + "/console/login/")
    staff.locator("#id_username").fill("civil_handler")
    staff.locator("#id_password").fill("pass-12345")
    staff.locator("main form button[type=submit]").click()
    staff.wait_for_url("**/console/")
    staff.goto(live_server.url + f"/console/applications/{application.number}/")
    staff.wait_for_selector("#process-diagram[data-rendered=true]")
    assert staff.locator('g.djs-element[data-element-id="check"].step-current').count() == 1
    assert staff.locator('g.djs-element[data-element-id="eligibility"].step-done').count() == 1
    assert staff.locator('g.djs-element[data-element-id="approval"].step-current').count() == 0
    assert axe_violations(staff) == []
    assert staff.csp_violations == []
