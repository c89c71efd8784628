"""GET requests and GET requests/{id}: every filter, paging, the official schema, and no personal data."""

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from govcrm.cases.models import Case
from govcrm.cases.tests.factories import move, register

from .conftest import BASE, LIGHT, POTHOLE, W3C_RE, assert_errors_json, assert_errors_xml, json_of, validate, xml_root

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded; charset=utf-8"
REQUEST_ELEMENTS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                    "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
PHONE, EMAIL = "13912345678", "wang.wu@example.org"


def submit(web, key, code=LIGHT, **over) -> str:
    fields = {"api_key": key, "service_code": code, "description": "和平街12号门口的路灯不亮", "lat": "39.915",
              "long": "116.404", "first_name": "五", "last_name": "王", "email": EMAIL, "phone": PHONE,
              "media_url": "https://fms.example/p/1.jpeg"}
    fields.update(over)
    response = web.post(f"{BASE}/requests.json", urlencode(fields), content_type=FORM)
    assert response.status_code == 201, response.content
    return json_of(response)[0]["service_request_id"]


def age(number: str, days: int) -> None:
    """Make a case look older (created_at is set on insert; tests move it back)."""
    Case.objects.filter(number=number).update(created_at=timezone.now() - dt.timedelta(days=days))


def numbers(response) -> list[str]:
    data = json_of(response)
    validate(data, "requests.json")
    return [r["service_request_id"] for r in data]


def walk_to_closed(city, number, reply):
    d, u = city.actor("dispatcher"), city.actor("urban_handler")
    move(d, number, "dispatch", unit="urban")
    move(u, number, "accept")
    move(u, number, "reply", reply=reply)
    move(d, number, "review")
    move(city.actor("agent"), number, "follow_up", resolved=True, satisfied=True)


def test_request_list_is_valid_and_complete(city, web, api_key):
    number = submit(web, api_key)
    move(city.actor("dispatcher"), number, "dispatch", unit="urban")
    data = json_of(web.get(f"{BASE}/requests.json"))
    validate(data, "requests.json")
    (request,) = data
    assert list(request) == REQUEST_ELEMENTS
    case = Case.objects.get(number=number)
    assert request["service_request_id"] == number and request["status"] == "open"
    assert request["service_code"] == LIGHT and request["service_name"] == "路灯不亮"
    assert request["agency_responsible"] == "市城市管理委员会"
    assert request["lat"] == 39.915 and request["long"] == 116.404
    assert request["media_url"] == "https://fms.example/p/1.jpeg"
    for key in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C_RE.match(request[key]), request[key]
    assert request["expected_datetime"] == timezone.localtime(case.reply_due).replace(microsecond=0).isoformat()


def test_request_list_xml_element_names(city, web, api_key):
    submit(web, api_key, address_string="和平街12号")
    root = xml_root(web.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests"
    (request,) = list(root)
    assert request.tag == "request" and [c.tag for c in request] == REQUEST_ELEMENTS
    assert request.findtext("status") == "open" and request.findtext("address") == "和平街12号"


def test_no_personal_data_in_get_responses(city, web, api_key):
    number = submit(web, api_key, description=f"路灯不亮，有事请打{PHONE}或写信到{EMAIL}，王五")
    walk_to_closed(city, number, reply=f"王先生您好，路灯已修复。如有问题请联系 {PHONE}。")
    responses = [
        web.get(f"{BASE}/requests.json"), web.get(f"{BASE}/requests.xml"),
        web.get(f"{BASE}/requests/{number}.json"), web.get(f"{BASE}/requests/{number}.xml"),
        web.get(f"{BASE}/servicerequestupdates.json"), web.get(f"{BASE}/servicerequestupdates.xml"),
    ]
    for response in responses:
        assert response.status_code == 200
        text = response.content.decode("utf-8")
        for secret in (PHONE, EMAIL, "王五", "王先生", "+86"):
            assert secret not in text, (secret, response.request["PATH_INFO"])
    (request,) = json_of(responses[0])
    assert request["status"] == "closed" and "路灯已修复" in request["status_notes"]
    assert "***" in request["description"]


def test_cases_of_other_channels_and_reports_are_not_published(city, web, api_key):
    phone_case = register(city.actor("agent"))  # a phone call: not published through Open311
    published = submit(web, api_key)
    confidential = submit(web, api_key, description="举报：有人偷倒垃圾")
    move(city.actor("dispatcher"), confidential, "reclassify", case_type="report")
    assert numbers(web.get(f"{BASE}/requests.json")) == [published]
    assert_errors_json(web.get(f"{BASE}/requests/{phone_case.number}.json"), 404)
    assert_errors_json(web.get(f"{BASE}/requests/{confidential}.json"), 404)
    ids = f"{phone_case.number},{published},{confidential}"
    assert numbers(web.get(f"{BASE}/requests.json", {"service_request_id": ids})) == [published]


def test_published_channels_are_a_setting(city, web, settings):
    settings.GOVCRM_OPEN311_PUBLIC_CHANNELS = ["open311", "phone"]
    phone_case = register(city.actor("agent"))
    (request,) = json_of(web.get(f"{BASE}/requests/{phone_case.number}.json"))
    assert "张三" not in str(request)  # the caller's name is never published


def test_filters(city, web, api_key):
    a = submit(web, api_key)
    b = submit(web, api_key, code=POTHOLE, description="路面有个大坑")
    c = submit(web, api_key, description="路灯又不亮了")
    walk_to_closed(city, c, reply="已修复。")
    get = lambda **q: numbers(web.get(f"{BASE}/requests.json", q))  # noqa: E731
    assert get() == [c, b, a]  # newest first
    assert get(service_code=POTHOLE) == [b]
    assert get(service_code=f"{POTHOLE},{LIGHT}") == [c, b, a]
    assert get(status="closed") == [c]
    assert get(status="open") == [b, a]
    assert get(status="open,closed") == [c, b, a]
    assert get(status="OPEN") == [b, a]
    # service_request_id overrides every other filter.
    assert sorted(get(service_request_id=f"{a},{c}", status="open", service_code=POTHOLE)) == sorted([a, c])
    assert get(service_request_id="nope") == []
    assert get(service_code="", status="") == [c, b, a]  # empty is absent


def test_date_window_and_its_default(city, web, api_key):
    recent = submit(web, api_key)
    old = submit(web, api_key, description="三个月前的路灯")
    age(old, 100)
    get = lambda **q: numbers(web.get(f"{BASE}/requests.json", q))  # noqa: E731
    assert get() == [recent]  # the last 90 days by default
    start = (timezone.now() - dt.timedelta(days=120)).replace(microsecond=0)
    assert get(start_date=start.isoformat()) == [old]  # 90 days from start_date
    end = (timezone.now() - dt.timedelta(days=50)).isoformat()
    assert get(end_date=end) == [old]  # 90 days up to end_date
    month_ago = (timezone.now() - dt.timedelta(days=30)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    assert get(start_date=month_ago, end_date=timezone.now().isoformat().replace("+00:00", "Z")) == [recent]
    assert get(start_date=timezone.localdate().isoformat()) == [recent]  # a bare date is local midnight
    assert old in get(service_request_id=old)  # ids are not limited by the window


@pytest.mark.parametrize(("query", "words"), [
    ({"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-05-01T00:00:00Z"}, "90 days"),
    ({"start_date": "2024-05-01T00:00:00Z", "end_date": "2024-01-01T00:00:00Z"}, "after"),
    ({"start_date": "yesterday"}, "start_date"),
    ({"end_date": "2024-05-01T00:00:00"}, "time zone"),  # W3C needs the zone
    ({"status": "pending"}, "pending"),
    ({"page": "0"}, "page"),
    ({"page_size": "1001"}, "page_size"),
    ({"page_size": "ten"}, "page_size"),
])
def test_bad_filters_are_400(city, web, query, words):
    errors = assert_errors_json(web.get(f"{BASE}/requests.json", query, HTTP_ACCEPT_LANGUAGE="en"), 400)
    assert words in errors[0]["description"]
    assert_errors_xml(web.get(f"{BASE}/requests.xml", query), 400)


def test_paging(city, web, api_key):
    made = [submit(web, api_key, description=f"路灯{i}不亮") for i in range(5)]
    newest_first = made[::-1]
    get = lambda **q: numbers(web.get(f"{BASE}/requests.json", q))  # noqa: E731
    assert get(page_size="2") == newest_first[:2]
    assert get(page_size="2", page="2") == newest_first[2:4]
    assert get(page_size="2", page="3") == newest_first[4:]
    assert web.get(f"{BASE}/requests.json", {"page": "4", "page_size": "2"}).content == b"[]"


def test_single_request(city, web, api_key):
    number = submit(web, api_key)
    data = json_of(web.get(f"{BASE}/requests/{number}.json"))
    validate(data, "requests.json")
    assert len(data) == 1 and data[0]["service_request_id"] == number
    root = xml_root(web.get(f"{BASE}/requests/{number}.xml"))
    assert root.tag == "service_requests" and [r.tag for r in root] == ["request"]
    errors = assert_errors_json(web.get(f"{BASE}/requests/20000101000001.json"), 404)
    assert errors[0]["code"] == 404
    assert_errors_xml(web.get(f"{BASE}/requests/20000101000001.xml"), 404)


def test_token_maps_to_the_request(city, web, api_key):
    from govcrm.channels.models import Interaction

    number = submit(web, api_key)
    token = Interaction.objects.get(case__number=number).data["token"]
    assert json_of(web.get(f"{BASE}/tokens/{token}.json")) == [{"service_request_id": number, "token": token}]
    root = xml_root(web.get(f"{BASE}/tokens/{token}.xml"))
    assert [c.tag for c in root.find("request")] == ["service_request_id", "token"]
    assert_errors_json(web.get(f"{BASE}/tokens/unknown.json"), 404)


def test_get_never_changes_anything(city, web, api_key):
    submit(web, api_key)
    before = list(Case.objects.values_list("number", "status", "version", "updated_at"))
    for path in ("requests.json", "services.json", "servicerequestupdates.xml", "discovery.json"):
        web.get(f"{BASE}/{path}")
    assert list(Case.objects.values_list("number", "status", "version", "updated_at")) == before


def test_query_count_does_not_grow_with_the_page(city, web, api_key, django_assert_max_num_queries):
    first = submit(web, api_key)
    move(city.actor("dispatcher"), first, "dispatch", unit="urban")
    with django_assert_max_num_queries(2):  # the cases with their category, unit and citizen; their origins
        web.get(f"{BASE}/requests.json")
    for i in range(6):
        number = submit(web, api_key, description=f"路灯{i}")
        move(city.actor("dispatcher"), number, "dispatch", unit="urban")
    with django_assert_max_num_queries(2):
        assert len(json_of(web.get(f"{BASE}/requests.json"))) == 7
    with django_assert_max_num_queries(6):
        assert len(json_of(web.get(f"{BASE}/servicerequestupdates.json"))) == 14
    with django_assert_max_num_queries(4):
        assert len(json_of(web.get(f"{BASE}/services.json"))) > 50


def test_head_is_answered_like_get(city, web):
    response = web.head(f"{BASE}/services.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json; charset=utf-8"
