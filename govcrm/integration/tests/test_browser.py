"""The administrator's webhook pages in a real browser (Chinese): a dead letter retried with the
button reaches a receiver that has recovered; axe and the Content-Security-Policy on each page."""

import pytest
from django.contrib.auth import get_user_model

from govcrm.cases.tests.factories import register
from govcrm.channels.portal.tests.conftest import axe_violations, chromium  # noqa: F401 -- fixture
from govcrm.integration.models import Delivery

from .factories import subscriber
from .receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_administrator_retries_a_dead_letter_in_the_console(city, live_server, chromium, settings):  # noqa: F811
    settings.GOVCRM_WEBHOOK_MAX_ATTEMPTS = 1
    settings.GOVCRM_WEBHOOK_TIMEOUT = 3
    receiver = Receiver()
    try:
        secret = subscriber(receiver.url, name="城管局业务系统")[1]
        receiver.secret = secret
        receiver.mode = "fail"
        case = register(city.actor("agent"))
        delivery = Delivery.objects.get()
        assert delivery.status == "dead"
        receiver.mode = "ok"
        get_user_model().objects.filter(username="admin").update(is_staff=True)

        context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        csp = []
        page.on("console", lambda m: "Content Security Policy" in m.text and csp.append(m.text))
        page.goto(live_server.url + "/console/login/")
        page.locator("#id_username").fill("admin")
        page.locator("#id_password").fill("pass-12345")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/console/")
        page.get_by_role("link", name="事件推送").first.click()
        page.wait_for_url("**/console/integration/")
        main = page.locator("main").inner_text()
        assert "城管局业务系统" in main and "死信" in main and case.number in main
        assert axe_violations(page) == []

        page.get_by_role("button", name="重新推送").first.click()
        page.wait_for_url(f"**/console/integration/deliveries/{delivery.pk}/")
        assert "已送达" in page.locator("main").inner_text()
        assert axe_violations(page) == []
        assert csp == []
        context.close()
    finally:
        receiver.stop()
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.log.count() == 2
    assert [e["subject"] for e in receiver.acknowledged()] == [case.number]
