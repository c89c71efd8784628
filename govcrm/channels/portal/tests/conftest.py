"""Portal test helpers: requests posted as a browser would, photos, and a case carried to follow-up."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from govcrm.cases.tests.factories import LEAF, move

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(autouse=True)
def _empty_cache():
    """The tracking throttle counts in the cache, which outlives a test's database rollback."""
    cache.clear()
    yield
    cache.clear()


def jpeg(size=(40, 30), colour="red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def fixture_upload(name: str) -> SimpleUploadedFile:
    return upload(name, (FIXTURES / name).read_bytes())


def request_data(**overrides) -> dict:
    """A filled-in request form, as the browser posts it."""
    data = {
        "token": str(uuid.uuid4()),
        "category": LEAF,
        "case_type": "complaint",
        "description": "和平街12号门口的路灯坏了三天，晚上很黑。",
        "address": "和平街12号",
        "lat": "",
        "lon": "",
        "name": "",
        "phone": "",
        "email": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def submit(client):
    """POST a request from the portal's form; returns the response (follow it for the confirmation)."""

    def post(*, follow: bool = False, **fields):
        return client.post("/", request_data(**fields), follow=follow)

    return post


@pytest.fixture
def tracked(city, client, submit):
    """A request sent through the portal by `client`, who therefore may see its page."""
    from govcrm.cases.models import Case

    submit(name="张三", phone="13800138000")
    return Case.objects.get()


def to_follow_up(city, number: str, reply: str = "路灯已于今日修复，感谢您的反映。"):
    """Carry a case through the units to follow-up, as the centre and the street office would."""
    move(city.actor("dispatcher"), number, "dispatch", unit=city.street1.code)
    move(city.actor("street_handler"), number, "accept")
    move(city.actor("street_handler"), number, "reply", reply=reply)
    return move(city.actor("dispatcher"), number, "review")


# --- a real browser ------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


@pytest.fixture
def chromium():
    """Debian's chromium driven by Playwright's sync API (no `playwright install`, no network).

    One per test, started after the test database is set up and stopped before it is torn down:
    while Playwright runs, Django sees another async context and hence other connection objects,
    and the flush and reload of a transactional test must run on the usual ones.
    """
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop registered as running in this thread, and Django
    # refuses ORM calls while it sees one. The tests' ORM calls are plain synchronous calls between
    # browser steps, so the guard is lifted while the browser runs, and only then.
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        # Database calls made while the browser ran opened connections of their own: close them,
        # or PostgreSQL refuses to drop the test database at the end of the run.
        from django.db import connections

        connections.close_all()
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def zh_page(chromium):
    """A page of a fresh browser context that asks for Chinese, on a phone-sized screen."""
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page) -> list[dict]:
    """Run axe-core (vendored, see tests/vendor/README.md) on the page: WCAG 2.0/2.1 A and AA rules."""
    # Evaluated through the DevTools protocol, not as a <script> tag: the pages' Content-Security-
    # Policy forbids inline scripts, and the test must not weaken it.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]]
