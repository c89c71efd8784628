"""Role scoping and masking: what each role may read, through queries and the API."""

import pytest

from govcrm.cases.queries import CaseFilter, case_get, case_list, case_queue
from govcrm.cases.tests.factories import move, register
from govcrm.common.errors import NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatched(city):
    case = register(city.actor("agent"), citizen={"name": "张三", "phone": "13800138000",
                                                  "id_number": "11010519491231002X"})
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    return case


def test_unit_handler_cannot_read_another_units_case(city, dispatched, api_client_for):
    with pytest.raises(NotFound):
        case_get(city.actor("other_handler"), dispatched.number)
    assert dispatched not in case_list(city.actor("other_handler"))
    assert dispatched not in case_queue(city.actor("other_handler"), "to_accept")
    r = api_client_for("other_handler").get(f"/api/v1/cases/{dispatched.number}")
    assert r.status_code == 404
    assert api_client_for("other_handler").get("/api/v1/cases").json()["count"] == 0
    r = api_client_for("street2_handler").get(f"/api/v1/cases/{dispatched.number}")
    assert r.status_code == 404


def test_unit_and_its_parent_see_the_case(city, dispatched, api_client_for):
    assert case_get(city.actor("street_handler"), dispatched.number)
    assert case_get(city.actor("district_manager"), dispatched.number)
    assert dispatched in case_queue(city.actor("street_handler"), "to_accept")
    assert dispatched in case_queue(city.actor("district_manager"), "to_accept")
    assert api_client_for("street_handler").get("/api/v1/cases").json()["count"] == 1


def test_returned_case_stays_in_the_units_history_but_leaves_its_queue(city, dispatched):
    move(city.actor("street_handler"), dispatched, "return", reason_code="wrong_area")
    assert case_get(city.actor("street_handler"), dispatched.number)
    assert dispatched not in case_queue(city.actor("street_handler"), "to_accept")


def test_api_action_by_other_unit_is_404_and_changes_nothing(city, dispatched, api_client_for):
    r = api_client_for("other_handler").post(f"/api/v1/cases/{dispatched.number}/actions/accept",
                                            content_type="application/json", data="{}")
    assert r.status_code == 404
    assert api_client_for("street_handler").get(f"/api/v1/cases/{dispatched.number}").json()["status"] == \
        "dispatched"


@pytest.mark.parametrize(("user", "phone", "id_number"), [
    ("agent", "+8613800138000", "11010519491231002X"),
    ("dispatcher", "+8613800138000", "110***********002X"),
    ("street_handler", "+8613800138000", "110***********002X"),
    ("analyst", "138****8000", "110***********002X"),
])
def test_masking_by_role(city, dispatched, api_client_for, user, phone, id_number):
    body = api_client_for(user).get(f"/api/v1/cases/{dispatched.number}").json()
    assert body["citizen"]["identities"]["phone"] == phone
    assert body["citizen"]["identities"]["id_card"] == id_number


def test_analyst_sees_masked_name(city, dispatched, api_client_for):
    body = api_client_for("analyst").get(f"/api/v1/cases/{dispatched.number}").json()
    assert body["citizen"]["name"] == "张*"


def test_reporter_of_a_report_case_is_hidden_from_the_unit(city, api_client_for):
    case = register(city.actor("agent"), case_type="report", description="举报某餐馆违规排放油烟")
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    unit_view = api_client_for("street_handler").get(f"/api/v1/cases/{case.number}").json()
    assert unit_view["citizen"] is None
    centre_view = api_client_for("dispatcher").get(f"/api/v1/cases/{case.number}").json()
    assert centre_view["citizen"]["name"] == "张三"
    citizen_id = centre_view["citizen"]["id"]
    assert api_client_for("street_handler").get(f"/api/v1/citizens/{citizen_id}").status_code == 404


def test_full_text_search_chinese_and_english(city, api_client_for):
    zh = register(city.actor("agent"), description="小区门口的路灯已经坏了一个星期")
    en = register(city.actor("agent"), description="The street light outside number 12 is broken",
                  language="en")
    agent = city.actor("agent")
    assert list(case_list(agent, CaseFilter(q="路灯"))) == [zh]
    assert list(case_list(agent, CaseFilter(q="street light"))) == [en]
    assert list(case_list(agent, CaseFilter(q="Broken"))) == [en]
    assert list(case_list(agent, CaseFilter(q="供暖"))) == []
    body = api_client_for("agent").get("/api/v1/cases", {"q": "路灯 坏了"}).json()
    assert body["count"] == 1 and body["items"][0]["number"] == zh.number


def test_list_filters(city, api_client_for):
    a = register(city.actor("agent"))
    b = register(city.actor("agent"), category="environment.noise.commercial", area="d2")
    move(city.actor("dispatcher"), a, "dispatch", unit="gov-d1s1")
    client = api_client_for("dispatcher")

    def numbers(**params):
        return {c["number"] for c in client.get("/api/v1/cases", params).json()["items"]}

    assert numbers(status="dispatched") == {a.number}
    assert numbers(unit="gov-d1") == {a.number}
    assert numbers(category="environment") == {b.number}
    assert numbers(area="d1") == {a.number}
    assert numbers(overdue="false") == {a.number, b.number}
    assert numbers(overdue="true") == set()
    assert numbers(created_from="2000-01-01T00:00:00Z") == {a.number, b.number}
    assert numbers(created_to="2000-01-01T00:00:00Z") == set()
    page = client.get("/api/v1/cases", {"page_size": 1, "page": 2}).json()
    assert page["count"] == 2 and len(page["items"]) == 1
