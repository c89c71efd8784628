"""Discovery, the service list and service definitions, in JSON (official schemas) and XML (element names)."""

import pytest

from govcrm.cases.models import Category

from .conftest import BASE, LIGHT, POTHOLE, assert_errors_json, assert_errors_xml, json_of, validate, xml_root

pytestmark = pytest.mark.django_db

SERVICE_ELEMENTS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]


def test_service_list_json_is_every_active_leaf_and_valid(city, web, questions):
    data = json_of(web.get(f"{BASE}/services.json"))
    validate(data, "services.json")
    by_code = {s["service_code"]: s for s in data}
    leaves = Category.objects.filter(active=True).exclude(children__active=True)
    assert set(by_code) == set(leaves.values_list("code", flat=True))
    assert "urban" not in by_code and "urban.roads" not in by_code  # only leaves are services
    pothole = by_code[POTHOLE]
    assert pothole == {
        "service_code": POTHOLE, "service_name": "路面坑洼破损", "description": "城乡建设 / 市政道路 / 路面坑洼破损",
        "metadata": True, "type": "realtime", "keywords": None, "group": "城乡建设",
    }
    assert by_code[LIGHT]["metadata"] is False


def test_service_list_in_english_by_locale_or_accept_language(city, web):
    by_locale = {s["service_code"]: s for s in json_of(web.get(f"{BASE}/services.json", {"locale": "en_US"}))}
    assert by_locale[POTHOLE]["service_name"] == "Potholes and broken pavement"
    assert by_locale[POTHOLE]["group"] == "Urban and rural construction"
    by_header = json_of(web.get(f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="en"))
    assert {s["service_code"]: s["service_name"] for s in by_header}[POTHOLE] == "Potholes and broken pavement"
    default = json_of(web.get(f"{BASE}/services.json"))
    assert {s["service_code"]: s["service_name"] for s in default}[POTHOLE] == "路面坑洼破损"


def test_inactive_category_is_no_service(city, web):
    Category.objects.filter(code=LIGHT).update(active=False)
    codes = {s["service_code"] for s in json_of(web.get(f"{BASE}/services.json"))}
    assert LIGHT not in codes
    assert_errors_json(web.get(f"{BASE}/services/{LIGHT}.json"), 404)


def test_keywords_are_comma_separated(city, web):
    Category.objects.filter(code=LIGHT).update(keywords="路灯 灯不亮、黑")
    service = {s["service_code"]: s for s in json_of(web.get(f"{BASE}/services.json"))}[LIGHT]
    assert service["keywords"] == "路灯,灯不亮,黑"


def test_service_list_xml_element_names(city, web, questions):
    root = xml_root(web.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    services = list(root)
    assert services and {s.tag for s in services} == {"service"}
    pothole = next(s for s in services if s.findtext("service_code") == POTHOLE)
    assert [c.tag for c in pothole] == SERVICE_ELEMENTS
    assert pothole.findtext("metadata") == "true" and pothole.findtext("type") == "realtime"
    assert pothole.findtext("keywords") == "" and len(pothole.find("keywords")) == 0  # empty element


def test_service_definition_json(city, web, questions):
    data = json_of(web.get(f"{BASE}/services/{POTHOLE}.json", {"locale": "en"}))
    validate(data, "service-definition.json")
    assert data["service_code"] == POTHOLE
    attributes = data["attributes"]
    assert [a["code"] for a in attributes] == ["depth", "hazards", "width_cm", "seen_at", "note"]
    assert [a["order"] for a in attributes] == [1, 2, 3, 4, 5]
    depth = attributes[0]
    assert depth == {
        "variable": True, "code": "depth", "datatype": "singlevaluelist", "required": True,
        "datatype_description": None, "order": 1, "description": "How deep is the pothole?",
        "values": [{"key": "shallow", "name": "Shallow"}, {"key": "deep", "name": "Deep"}],
    }
    assert attributes[2]["datatype_description"] == "厘米" and "values" not in attributes[2]
    assert attributes[4]["variable"] is False


def test_service_definition_xml(city, web, questions):
    root = xml_root(web.get(f"{BASE}/services/{POTHOLE}.xml"))
    assert root.tag == "service_definition"
    assert [c.tag for c in root] == ["service_code", "attributes"]
    attributes = list(root.find("attributes"))
    assert {a.tag for a in attributes} == {"attribute"}
    depth = attributes[0]
    assert [c.tag for c in depth] == ["variable", "code", "datatype", "required", "datatype_description", "order",
                                      "description", "values"]
    assert depth.findtext("required") == "true" and depth.findtext("description") == "坑有多深？"
    values = list(depth.find("values"))
    assert [v.tag for v in values] == ["value", "value"]
    assert [(v.findtext("key"), v.findtext("name")) for v in values] == [("shallow", "浅"), ("deep", "深")]


def test_definition_without_questions_is_empty(city, web):
    data = json_of(web.get(f"{BASE}/services/{LIGHT}.json"))
    validate(data, "service-definition.json")
    assert data == {"service_code": LIGHT, "attributes": []}


def test_unknown_service_is_404_in_both_formats(city, web):
    errors = assert_errors_json(web.get(f"{BASE}/services/no.such.code.json"), 404)
    assert errors[0]["code"] == 404 and "no.such.code" in errors[0]["description"]
    assert_errors_xml(web.get(f"{BASE}/services/no.such.code.xml"), 404)
    # A category that is not a leaf is not a service either.
    assert_errors_json(web.get(f"{BASE}/services/urban.roads.json"), 404)


def test_jurisdiction_is_optional_and_checked(city, web, settings):
    assert web.get(f"{BASE}/services.json", {"jurisdiction_id": settings.GOVCRM_JURISDICTION}).status_code == 200
    assert web.get(f"{BASE}/services.json", {"jurisdiction_id": ""}).status_code == 200  # empty = absent
    assert_errors_json(web.get(f"{BASE}/services.json", {"jurisdiction_id": "other.example"}), 404)
    assert_errors_xml(web.get(f"{BASE}/services.xml", {"jurisdiction_id": "other.example"}), 404)


def test_bad_extension_and_unknown_resource(city, web):
    assert_errors_xml(web.get(f"{BASE}/services.html"), 404)
    assert_errors_xml(web.get(f"{BASE}/nothing.xml"), 404)
    assert_errors_json(web.get(f"{BASE}/nothing.json"), 404)
    response = web.post(f"{BASE}/services.json")
    assert_errors_json(response, 405)
    assert "GET" in response["Allow"]


def test_discovery_in_both_formats(city, web):
    data = json_of(web.get(f"{BASE}/discovery.json"))
    assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = data["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["type"] in ("production", "test")
    root = xml_root(web.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [c.tag for c in root] == ["changeset", "contact", "key_service", "endpoints"]
    ep = root.find("endpoints/endpoint")
    assert [c.tag for c in ep] == ["specification", "url", "changeset", "type", "formats"]
    assert [f.text for f in ep.find("formats")] == ["text/xml", "application/json"]
    assert {f.tag for f in ep.find("formats")} == {"format"}
