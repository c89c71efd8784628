"""The second factor in a real browser (Debian Chromium): set-up by the page's QR image and key,
then sign-in with password and code; axe-clean pages, and no Content-Security-Policy violation."""

import re
import time

import pytest
from django.db import connections

from govcrm.channels.portal.tests.conftest import axe_violations, chromium  # noqa: F401 -- fixture

from .test_twofactor import totp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def page(chromium):  # noqa: F811 -- the fixture imported above
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.csp_errors = []
    page.on("console", lambda m: page.csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    context.close()
    connections.close_all()


def _password(page, base: str) -> None:
    page.goto(base + "/console/login/")
    page.locator("#id_username").fill("dispatcher")
    page.locator("#id_password").fill("pass-12345")
    page.locator("main form button[type=submit]").click()


def test_set_up_and_sign_in_with_a_code(city, live_server, page):
    base = live_server.url
    _password(page, base)
    page.wait_for_url("**/console/")
    page.get_by_role("link", name="登录安全").click()
    page.get_by_role("button", name="设置", exact=True).click()
    qr = page.get_by_role("img", name="身份验证器应用的二维码")
    qr.wait_for()
    # the image is drawn by a second request: wait until it has loaded (fails on a broken image)
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    assert axe_violations(page) == []
    secret = page.locator("#totp-secret").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    page.get_by_label("验证码").fill(totp(secret))
    page.get_by_role("button", name="开启").click()
    codes = page.locator("#backup-codes li").all_inner_texts()
    assert len(codes) == 10
    assert axe_violations(page) == []

    page.context.clear_cookies()
    _password(page, base)
    page.wait_for_url("**/console/login/code/")
    assert axe_violations(page) == []
    page.get_by_label("验证码").fill(totp(secret, time.time() + 30))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/console/")
    assert page.get_by_role("link", name="登录安全").is_visible()
    assert page.csp_errors == []
