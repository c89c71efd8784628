"""The portal's "for you" (signed-in, zh and en; nothing personal for others) and the agent's next best action."""

import re

import pytest
from django.core import mail
from django.test import Client

from govcrm.cases.tests.factories import register

from .factories import EMAIL, PHONE, world

pytestmark = pytest.mark.django_db


def signed_in(language: str) -> Client:
    client = Client(headers={"Accept-Language": language})
    client.cookies["django_language"] = language
    assert client.post("/signin/", {"identity": EMAIL}).status_code == 302
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    assert client.post("/signin/code/", {"code": code}).status_code == 302
    return client


def test_for_you_page_in_chinese(city):
    w = world(city)
    page = signed_in("zh-hans").get("/for-you/").content.decode()
    # the renewal of the permit falls due; the senior card comes with the 60th birthday
    assert 'data-notice="renewal:permit-endorsement"' in page
    assert "居住证签注" in page and "有效期至" in page
    assert 'data-notice="age:senior-card"' in page and w.born.replace(year=w.born.year + 60).isoformat() in page
    # co-occurrence: families who registered a birth also claimed the subsidy; the insurance is in review
    services = re.findall(r'data-service="([^"]+)"', page)
    assert services[0] == "childcare-subsidy"
    assert "child-insurance" not in services and "birth-registration" not in services
    assert "申请了“新生儿出生登记”的市民也申请了“育儿补贴申领”" in page
    assert "新生儿医保参保" in page  # listed as in progress
    assert "为您推荐" in page
    assert "即将可办：" in page  # the label with the language's own colon


def test_for_you_page_in_english(city):
    world(city)
    page = signed_in("en").get("/for-you/").content.decode()
    assert "People who applied for “Birth registration” also applied for “Childcare subsidy”." in page
    assert "Residence permit endorsement" in page and "working days left" in page
    assert "Soon:" in page


def test_the_portal_pages_show_a_short_block_when_signed_in(city):
    world(city)
    client = signed_in("zh-hans")
    for url in ("/", "/mine/"):
        page = client.get(url).content.decode()
        assert 'class="card personal-block"' in page, url
        assert 'data-service="childcare-subsidy"' in page


def test_anonymous_sees_nothing_personal(city):
    world(city)
    client = Client()
    index = client.get("/").content.decode()
    assert "personal-block" not in index and "data-service" not in index
    page = client.get("/for-you/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "data-notice" not in body and "data-service" not in body and "/signin/" in body


def test_cold_start_citizen_gets_popular_services(city):
    from govcrm.citizens.actions import citizen_find_or_create, citizen_input_clean
    from govcrm.personal import queries

    w = world(city)
    newcomer = citizen_find_or_create(data=citizen_input_clean(name="李四", phone="+8613900139000"))
    found = queries.recommendations(newcomer, language="en", today=__import__("datetime").date.today(), k=3)
    # citizen counts: birth-registration 5 (4 others + Zhang), child-insurance 4, childcare-subsidy 3,
    # tax-registration 3 (ties by code); no age known, so the senior card is not excluded but less used
    assert [s.code for s in found] == ["birth-registration", "child-insurance", "childcare-subsidy"]
    assert {s.kind for s in found} == {"popular"}
    assert w.zhang.pk != newcomer.pk


def _nba(client, citizen_id):
    return client.get(f"/console/personal/citizens/{citizen_id}/nba", headers={"HX-Request": "true"})


def test_next_best_action_for_the_agent(city, client):
    w = world(city)
    case = register(city.actor("agent"), citizen={"name": "张三", "phone": PHONE})
    client.force_login(city.users["agent"])
    response = _nba(client, w.zhang.pk)
    assert response.status_code == 200
    body = response.content.decode()
    assert case.number in body  # an open case to report on
    assert 'data-notice="renewal:permit-endorsement"' in body
    assert 'data-service="childcare-subsidy"' in body
    # the agent may see ID numbers, so the birthday behind the age notice is shown
    assert w.born.replace(year=w.born.year + 60).isoformat() in body
    # nothing of the identities in a fragment: no phone, no ID number, no name
    assert "13800138000" not in body and "110101" not in body and "张三" not in body
    assert "<html" not in body  # a fragment


def test_next_best_action_masks_the_birthday_for_the_dispatcher(city, client):
    w = world(city)
    client.force_login(city.users["dispatcher"])
    body = _nba(client, w.zhang.pk).content.decode()
    assert 'data-notice="age:senior-card"' in body
    assert w.born.replace(year=w.born.year + 60).isoformat() not in body
    assert str(w.born.year) not in body


@pytest.mark.parametrize("username", ["analyst", "urban_handler", "street_handler"])
def test_next_best_action_is_for_the_centre_only(city, client, username):
    w = world(city)
    client.force_login(city.users[username])
    assert client.get(f"/console/personal/citizens/{w.zhang.pk}/nba").status_code == 403


def test_next_best_action_needs_a_sign_in_and_a_real_citizen(city, client):
    w = world(city)
    response = client.get(f"/console/personal/citizens/{w.zhang.pk}/nba")
    assert response.status_code == 302 and "/console/login/" in response["Location"]
    client.force_login(city.users["agent"])
    assert client.get("/console/personal/citizens/999999/nba").status_code == 404
    page = client.get(f"/console/personal/citizens/{w.zhang.pk}/nba")  # without HTMX: a whole page
    assert page.status_code == 200 and "<html" in page.content.decode()


def test_caller_lookup_loads_the_next_best_action(city, client):
    w = world(city)
    client.force_login(city.users["agent"])
    body = client.get("/console/intake/lookup", {"phone": "13800138000"},
                      headers={"HX-Request": "true"}).content.decode()
    assert f"/console/personal/citizens/{w.zhang.pk}/nba" in body


def test_citizen_page_loads_the_next_best_action(city, client):
    w = world(city)
    client.force_login(city.users["supervisor"])
    body = client.get(f"/console/citizens/{w.zhang.pk}/").content.decode()
    assert f'hx-get="/console/personal/citizens/{w.zhang.pk}/nba"' in body
