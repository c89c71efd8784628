"""Phone intake: caller lookup by phone, the category picker, registering a case, refusals."""

import re

import pytest

from govcrm.cases.models import Case
from govcrm.cases.tests.factories import LEAF, dispatch_rule, register
from govcrm.citizens.models import Citizen

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
VALID_ID = "11010519491231002X"


def form(**overrides):
    data = {"phone": "13800138000", "citizen_name": "张三", "id_number": "", "language": "zh-hans",
            "category": LEAF, "case_type": "complaint", "urgency": "normal", "title": "",
            "description": "小区门口路灯不亮", "address": "和平街12号", "area": "d1s1g1", "lat": "", "lon": "",
            "resolve_reply": ""}
    data.update(overrides)
    return data


def test_intake_page_has_the_phone_field_first(client_for):
    r = client_for("agent").get("/console/intake/")
    assert r.status_code == 200
    html = r.content.decode()
    assert html.index('name="phone"') < html.index('name="citizen_name"') < html.index('name="category"')
    phone_input = re.search(r'<input[^>]*name="phone"[^>]*>', html).group(0)
    assert "autofocus" in phone_input and 'type="tel"' in phone_input


def test_lookup_finds_a_returning_caller_and_their_cases(client_for, city):
    old = register(city.actor("agent"))
    r = client_for("agent", language="en").get("/console/intake/lookup", {"phone": "138 0013 8000"}, **HTMX)
    assert r.status_code == 200
    html = r.content.decode()
    assert "<html" not in html
    assert "Returning caller" in html and "张三" in html and old.number in html


def test_lookup_of_a_new_number_and_of_a_bad_number(client_for, city):
    c = client_for("agent", language="en")
    assert "New caller" in c.get("/console/intake/lookup", {"phone": "13900139000"}, **HTMX).content.decode()
    assert "Not a valid phone number" in c.get("/console/intake/lookup", {"phone": "12"}, **HTMX).content.decode()


def test_lookup_without_javascript_renders_the_whole_form(client_for, city):
    register(city.actor("agent"))
    r = client_for("agent", language="en").post("/console/intake/", {**form(description=""), "lookup": "1"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "Returning caller" in html and 'value="13800138000"' in html
    assert Case.objects.count() == 1  # looking up registers nothing


def test_intake_registers_a_case_for_a_returning_caller_and_redirects(client_for, city):
    register(city.actor("agent"))
    dispatch_rule(LEAF, city.street1, city.street_area)
    client = client_for("agent")
    assert "张三" in client.get("/console/intake/lookup", {"phone": "13800138000"}, **HTMX).content.decode()
    r = client.post("/console/intake/", form(citizen_name="", id_number=VALID_ID, lat="39.91", lon="116.40"))
    assert r.status_code == 302
    case = Case.objects.latest("id")
    assert r["Location"] == f"/console/cases/{case.number}/"
    assert case.status == "dispatched" and case.lead_unit.code == "gov-d1s1"  # dispatched by rule
    assert case.channel == "phone" and case.lat == 39.91
    assert Citizen.objects.count() == 1  # the same caller, found by phone
    assert case.citizen.identities.filter(kind="id_card").exists()
    assert client.get(r["Location"]).status_code == 200


def test_intake_resolved_at_first_contact_closes_the_case(client_for):
    r = client_for("agent").post("/console/intake/", form(case_type="inquiry", resolve_reply="已告知维修电话"))
    assert r.status_code == 302
    case = Case.objects.get()
    assert case.status == "closed" and case.close_reason == "first_contact" and case.reply == "已告知维修电话"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"phone": "12"}, "phone"),
    ({"id_number": "110105194912310021"}, "id_number"),
    ({"category": "urban"}, "category"),  # not a leaf: refused by the form's choices
    ({"description": ""}, "description"),
    ({"lat": "abc"}, "lat"),
    ({"lat": "39.9", "lon": ""}, "lat"),  # both or neither, said by the action
])
def test_bad_intake_shows_the_field_error_and_stores_nothing(client_for, overrides, field):
    r = client_for("agent").post("/console/intake/", form(**overrides))
    assert r.status_code == 422
    html = r.content.decode()
    assert f'id="id_{field}_error"' in html
    assert 'role="alert"' in html
    assert Case.objects.count() == 0 and Citizen.objects.count() == 0


@pytest.mark.parametrize("username", ["analyst", "street_handler", "district_manager"])
def test_only_centre_roles_take_calls(client_for, username):
    c = client_for(username)
    assert c.get("/console/intake/").status_code == 403
    assert c.get("/console/intake/lookup", {"phone": "13800138000"}).status_code == 403
    assert c.post("/console/intake/", form()).status_code == 403
    assert Case.objects.count() == 0
    assert 'href="/console/intake/"' not in c.get("/console/").content.decode()


@pytest.mark.parametrize("username", ["agent", "dispatcher", "supervisor", "admin"])
def test_centre_roles_may_take_calls(client_for, username):
    assert client_for(username).get("/console/intake/").status_code == 200


@pytest.mark.parametrize(("q", "found", "not_found"), [
    ("路灯", ["urban.lighting.out", "urban.lighting.daytime"], ["urban.roads.pothole"]),
    ("street light", ["urban.lighting.out"], ["urban.roads.pothole"]),
    ("pothole", ["urban.roads.pothole"], ["urban.lighting.out"]),
])
def test_category_search_offers_matching_leaves_only(client_for, q, found, not_found):
    r = client_for("agent").get("/console/intake/categories", {"category_q": q}, **HTMX)
    html = r.content.decode()
    assert html.lstrip().startswith('<div id="category-select"')
    for code in found:
        assert f'value="{code}"' in html
    for code in not_found:
        assert f'value="{code}"' not in html
    assert 'value="urban.lighting"' not in html  # never a parent


def test_category_select_lists_only_leaves(client_for):
    html = client_for("agent").get("/console/intake/").content.decode()
    assert 'value="urban.lighting.out"' in html
    assert 'value="urban.lighting"' not in html and 'value="urban"' not in html
