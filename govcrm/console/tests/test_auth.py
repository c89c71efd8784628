"""Sign-in, sign-out and the language switch (Chinese by default, English on request, remembered)."""

import pytest
from django.test import Client

from govcrm.organization.models import StaffProfile

pytestmark = pytest.mark.django_db


def test_login_page_and_sign_in_sets_the_saved_language(city):
    StaffProfile.objects.filter(user=city.users["dispatcher"]).update(language="en")
    client = Client()
    page = client.get("/console/login/")
    assert page.status_code == 200 and 'name="password"' in page.content.decode()
    r = client.post("/console/login/", {"username": "dispatcher", "password": "pass-12345"})
    assert r.status_code == 302 and r["Location"] == "/console/"
    assert r.cookies["django_language"].value == "en"
    assert "My queues" in client.get("/console/").content.decode()


def test_wrong_password_is_refused(city):
    r = Client().post("/console/login/", {"username": "dispatcher", "password": "wrong"})
    assert r.status_code == 200
    assert 'role="alert"' in r.content.decode()


def test_logout_is_post_only(client_for):
    client = client_for("agent")
    assert client.get("/console/logout/").status_code == 405
    assert client.get("/console/").status_code == 200
    r = client.post("/console/logout/")
    assert r.status_code == 302 and r["Location"] == "/console/login/"
    assert client.get("/console/").status_code == 302


def test_chinese_by_default_english_after_the_switch_and_remembered(client_for, city):
    client = client_for("agent")
    zh = client.get("/console/").content.decode()
    assert 'lang="zh-hans"' in zh and "我的待办" in zh and "My queues" not in zh
    r = client.post("/console/language/", {"language": "en", "next": "/console/"})
    assert r.status_code == 302 and r["Location"] == "/console/"
    en = client.get("/console/").content.decode()
    assert 'lang="en"' in en and "My queues" in en and "我的待办" not in en
    assert StaffProfile.objects.get(user=city.users["agent"]).language == "en"


def test_language_switch_before_sign_in_only_sets_the_cookie(city):
    client = Client()
    r = client.post("/console/language/", {"language": "en", "next": "/console/login/"})
    assert r.status_code == 302 and r.cookies["django_language"].value == "en"
    assert "Sign in to the staff console" in client.get("/console/login/").content.decode()


def test_language_switch_needs_post_and_csrf(city):
    client = Client(enforce_csrf_checks=True)
    client.force_login(city.users["agent"])
    assert client.get("/console/language/").status_code == 405
    assert client.post("/console/language/", {"language": "en"}).status_code == 403
    assert StaffProfile.objects.get(user=city.users["agent"]).language == "zh-hans"


def test_moves_need_csrf(city, client_for):
    from govcrm.cases.tests.factories import register

    case = register(city.actor("agent"))
    client = Client(enforce_csrf_checks=True)
    client.force_login(city.users["dispatcher"])
    r = client.post(f"/console/cases/{case.number}/actions/dispatch/", {"dispatch-unit": "water"})
    assert r.status_code == 403
    case.refresh_from_db()
    assert case.status == "registered"


def test_pages_load_only_local_assets(client_for):
    html = client_for("agent").get("/console/intake/").content.decode()
    assert "/static/console/htmx.min.js" in html and "/static/console/console.css" in html
    assert "http://" not in html and "https://" not in html
