"""Optional sign-in with a one-time code: by e-mail (Django's mail backend) or phone (the log)."""

import logging
import re

import pytest
from django.core import mail
from django.test import Client

from govcrm.cases.models import Case
from govcrm.cases.tests.factories import register
from govcrm.citizens.models import Citizen

from .conftest import to_follow_up

pytestmark = pytest.mark.django_db


def english() -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    return client


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def sign_in_by_email(client, address="zhang@example.org") -> None:
    assert client.post("/signin/", {"identity": address})["Location"] == "/signin/code/"
    code = code_in(mail.outbox[-1].body)
    assert client.post("/signin/code/", {"code": code})["Location"] == "/mine/"


def test_sign_in_by_email_then_my_requests_from_every_channel(city):
    by_phone_call = register(city.actor("agent"), citizen={"name": "张三", "email": "zhang@Example.org"})
    register(city.actor("agent"), citizen={"name": "李四", "phone": "13900139000"})
    client = english()
    sign_in_by_email(client)
    assert mail.outbox[-1].to == ["zhang@example.org"] and "sign-in code" in mail.outbox[-1].body
    html = client.get("/mine/").content.decode()
    assert by_phone_call.number in html and "Signed in as z***@example.org" in html
    assert len(re.findall(r'href="/track/\d+/"', html)) == 1  # not the other citizen's case
    assert client.get(f"/track/{by_phone_call.number}/").status_code == 200  # no code needed: it is theirs
    to_follow_up(city, by_phone_call.number)
    client.post(f"/track/{by_phone_call.number}/feedback/", {"resolved": "yes", "satisfied": "yes", "rating": "5"})
    assert Case.objects.get(pk=by_phone_call.pk).rating == 5


def test_sign_in_by_phone_writes_the_code_to_the_log_and_fills_in_the_form(city, caplog):
    client = english()
    with caplog.at_level(logging.WARNING, logger="govcrm.channels.portal.signin"):
        client.post("/signin/", {"identity": "138 0013 8000"})
    code = code_in(caplog.records[-1].getMessage())
    assert "+8613800138000" in caplog.records[-1].getMessage()
    client.post("/signin/code/", {"code": code})
    form = client.get("/").content.decode()
    assert 'value="13800138000"' in form and "Signed in as 138****8000" in form
    assert Citizen.objects.count() == 0  # signing in creates no record; the first request does
    client.post("/", {"token": "7d4f4a8e-8c1e-4a43-9a5e-0e8f5b1d2c3a", "category": "urban.lighting.out",
                      "case_type": "help", "description": "路灯不亮。", "phone": "13800138000"})
    case = Case.objects.get()
    assert client.get("/mine/").content.decode().count(case.number) >= 1
    client.post("/signout/")
    client.post("/mine/forget/")
    assert case.number not in client.get("/mine/").content.decode()


def test_a_wrong_code_is_refused_and_five_wrong_codes_use_it_up(city):
    client = english()
    client.post("/signin/", {"identity": "zhang@example.org"})
    code = code_in(mail.outbox[-1].body)
    wrong = "000000" if code != "000000" else "111111"
    response = client.post("/signin/code/", {"code": wrong})
    assert response.status_code == 422 and "This code is wrong or no longer valid." in response.content.decode()
    for _ in range(4):
        client.post("/signin/code/", {"code": wrong})
    assert client.post("/signin/code/", {"code": code}).status_code == 422  # too many tries: the code is gone
    assert "Signed in as" not in client.get("/").content.decode()


def test_codes_are_not_sent_too_often(city):
    client = english()
    client.post("/signin/", {"identity": "zhang@example.org"})
    again = client.post("/signin/", {"identity": "zhang@example.org"})
    assert again.status_code == 422 and "less than a minute ago" in again.content.decode()
    assert len(mail.outbox) == 1


def test_a_bad_identity_is_refused(city):
    response = english().post("/signin/", {"identity": "12345"})
    assert response.status_code == 422 and "Not a valid phone number" in response.content.decode()
    assert mail.outbox == []


def test_the_code_page_needs_a_pending_sign_in(city):
    assert Client().get("/signin/code/")["Location"] == "/signin/"


def test_sign_in_starts_a_new_session(city):
    client = english()
    client.get("/")
    client.post("/signin/", {"identity": "zhang@example.org"})
    before = client.cookies["sessionid"].value
    client.post("/signin/code/", {"code": code_in(mail.outbox[-1].body)})
    assert client.cookies["sessionid"].value != before
