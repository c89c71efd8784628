"""The report pages in Debian's chromium, in Chinese and English: reached from the console menu,
subscribing through the form, a past report downloaded; axe finds nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from govcrm.channels.portal.tests.conftest import axe_violations, chromium  # noqa: F401 -- fixture
from govcrm.reports.models import Report, Subscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def sign_in(page, base: str, username: str):
    page.goto(base + "/console/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("pass-12345")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/console/")


@pytest.mark.parametrize(("language", "menu", "subscribe", "done"), [
    ("zh-hans", "报告", "订阅", "已为 supervisor 订阅周报。"),
    ("en", "Reports", "Subscribe", "Subscribed supervisor to the Weekly report."),
])
def test_subscribe_and_download_in_the_browser(city, live_server, chromium, language, menu, subscribe,  # noqa: F811
                                               done):
    user = city.users["supervisor"]
    user.email = "supervisor@hotline.example.cn"
    user.save(update_fields=["email"])
    report = Report.objects.create(kind="weekly", period_start=dt.date(2026, 3, 2), period_end=dt.date(2026, 3, 8),
                                   language="zh-hans", as_of=timezone.now(), pdf=b"%PDF-1.4 test", xlsx=b"PK")
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "supervisor")
        if language == "en":
            page.locator("#language-select").select_option("en")
            page.get_by_role("button", name="切换").click()
        page.get_by_role("navigation", name="Main" if language == "en" else "主导航").get_by_role(
            "link", name=menu, exact=True).click()
        page.wait_for_url("**/console/reports/")
        assert axe_violations(page) == []
        with page.expect_download() as download:
            page.locator(f"a[href='/console/reports/{report.pk}.pdf']").click()
        assert download.value.suggested_filename == "govcrm-weekly-2026-W10-city-zh-hans.pdf"
        page.locator("a[href='/console/reports/subscriptions/']").click()
        form = page.locator("form", has=page.locator("input[name=kind][value=weekly]"))
        form.locator("select[name=language]").select_option("en")
        form.locator("input[name=xlsx]").uncheck()
        form.get_by_role("button", name=subscribe).click()
        page.wait_for_url("**/console/reports/subscriptions/")
        assert done in page.locator("main").inner_text()
        assert axe_violations(page) == []
        sub = Subscription.objects.get()
        assert (sub.kind, sub.language, sub.formats) == ("weekly", "en", ["pdf"])
    finally:
        context.close()
