"""POST requests: FixMyStreet's body replayed, idempotent retries, every refusal storing nothing."""

import io
from urllib.parse import urlencode

import pytest
from PIL import Image

from govcrm.cases.models import Case
from govcrm.channels.models import Attachment, Interaction
from govcrm.channels.open311.models import Open311Client
from govcrm.citizens.models import Citizen

from .conftest import (
    BASE,
    LIGHT,
    POTHOLE,
    assert_errors_json,
    assert_errors_xml,
    fixture_body,
    json_of,
    xml_root,
)

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def post(web, fields, fmt="json", **extra):
    return web.post(f"{BASE}/requests.{fmt}", urlencode(fields, doseq=True), content_type=FORM, **extra)


def light(key, **over):
    fields = {"api_key": key, "service_code": LIGHT, "description": "和平街12号门口的路灯不亮",
              "lat": "39.915", "long": "116.404"}
    fields.update(over)
    return {k: v for k, v in fields.items() if v is not None}


def nothing_stored():
    return Case.objects.count() == 0 and Interaction.objects.count() == 0 and Citizen.objects.count() == 0


def test_fixmystreet_body_replayed_to_requests_xml(city, web, api_key, questions):
    body = fixture_body("fms_post_request.txt", api_key)
    response = web.post(f"{BASE}/requests.xml", body, content_type=FORM)
    assert response.status_code == 201, response.content
    root = xml_root(response)
    assert root.tag == "service_requests"
    (request,) = list(root)
    assert request.tag == "request"
    assert [c.tag for c in request] == ["service_request_id", "service_notice", "account_id"]
    number = request.findtext("service_request_id")
    case = Case.objects.get(number=number)
    assert case.channel == "open311" and case.category.code == POTHOLE and case.case_type == "help"
    assert case.lat == pytest.approx(39.915119) and case.lon == pytest.approx(116.403963)
    assert case.description.startswith("title: Pothole outside No. 12\n\ndetail: Deep pothole\n")
    assert case.citizen.name == "Jane Citizen"
    assert number in request.findtext("service_notice")
    interaction = Interaction.objects.get(case=case)
    assert interaction.external_id == "fixmystreet:fixmystreet_id:42"
    assert interaction.data["client"] == "fixmystreet"
    assert interaction.data["attributes"] == {"depth": "deep", "hazards": ["traffic", "water"], "title": "Ms",
                                              "fixmystreet_id": "42"}
    assert interaction.data["media_url"] == ["http://fms.example/photo/42.0.full.jpeg"]


def test_retried_post_returns_the_same_id_and_creates_nothing(city, web, api_key):
    first = post(web, light(api_key))
    assert first.status_code == 201
    again = post(web, light(api_key))
    assert again.status_code == 200
    assert json_of(again)[0]["service_request_id"] == json_of(first)[0]["service_request_id"]
    assert Case.objects.count() == 1 and Interaction.objects.count() == 1
    # The same fields in another order and another jurisdiction_id spelling are the same request.
    fields = light(api_key)
    reordered = dict(reversed(list(fields.items())), jurisdiction_id="govcrm.localhost")
    assert json_of(post(web, reordered))[0]["service_request_id"] == json_of(first)[0]["service_request_id"]
    # Something different is a new request.
    other = post(web, light(api_key, description="另一盏路灯也不亮"))
    assert other.status_code == 201 and Case.objects.count() == 2


def test_fixmystreet_id_hint_makes_a_changed_retry_the_same_request(city, web, api_key):
    first = json_of(post(web, light(api_key, **{"attribute[fixmystreet_id]": "77"})))
    again = post(web, light(api_key, description="路灯不亮（重发）", **{"attribute[fixmystreet_id]": "77"}))
    assert again.status_code == 200 and json_of(again) == first
    assert Case.objects.count() == 1


def test_post_answer_json_shape(city, web, api_key):
    response = post(web, light(api_key, account_id="acc-9"))
    (answer,) = json_of(response)
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert isinstance(answer["service_request_id"], str) and answer["account_id"] == "acc-9"
    assert "token" not in answer  # realtime services answer with the id, never with a token


def test_case_is_visible_through_the_rest_api_with_its_channel(city, api_client_for, web, api_key):
    number = json_of(post(web, light(api_key)))[0]["service_request_id"]
    response = api_client_for("agent").get(f"/api/v1/cases/{number}")
    assert response.status_code == 200
    assert response.json()["channel"] == "open311" and response.json()["category"]["code"] == LIGHT


def test_api_key_from_the_query_string(city, web, api_key):
    fields = light(api_key)
    del fields["api_key"]
    response = web.post(f"{BASE}/requests.json?api_key={api_key}", urlencode(fields), content_type=FORM)
    assert response.status_code == 201


@pytest.mark.parametrize("key", [None, "", "o311_wrong"])
def test_missing_or_bad_api_key_is_403_and_stores_nothing(city, web, api_key, key):
    errors = assert_errors_json(post(web, light(api_key, api_key=key)), 403)
    assert errors[0]["code"] == 403 and "api_key" in errors[0]["description"]
    assert_errors_xml(post(web, light(api_key, api_key=key), fmt="xml"), 403)
    assert nothing_stored()


def test_deactivated_client_is_refused(city, web, fms):
    client, key = fms
    Open311Client.objects.filter(pk=client.pk).update(active=False)
    assert_errors_json(post(web, light(key)), 403)
    assert nothing_stored()


def test_key_is_stored_hashed(city, fms):
    client, key = fms
    stored = Open311Client.objects.get(pk=client.pk)
    assert key.startswith("o311_") and stored.key_prefix == key[:12]
    assert key not in (stored.key_digest, stored.name) and len(stored.key_digest) == 64


@pytest.mark.parametrize(("over", "status", "words"), [
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": "no.such.service"}, 404, "no.such.service"),
    ({"service_code": "urban.roads"}, 404, "urban.roads"),  # not a leaf: not a service
    ({"jurisdiction_id": "other.example"}, 404, "other.example"),
    ({"lat": None, "long": None}, 400, "location"),
    ({"long": None}, 400, "lat and long"),
    ({"lat": "north"}, 400, "lat and long"),
    ({"lat": "91"}, 400, "range"),
    ({"phone": "12345"}, 400, "phone"),
    ({"email": "not-an-address"}, 400, "e-mail"),
    ({"description": "x" * 4001}, 400, "4000"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"case_type": "praise"}, 400, "case_type"),
])
def test_malformed_input_is_refused_in_the_spec_format(city, web, api_key, over, status, words):
    response = post(web, light(api_key, **over), HTTP_ACCEPT_LANGUAGE="en")
    errors = assert_errors_json(response, status)
    assert words in errors[0]["description"]
    assert nothing_stored()


def test_address_string_or_address_id_is_location_enough(city, web, api_key):
    by_address = post(web, light(api_key, lat=None, long=None, address_string="和平街12号"))
    assert by_address.status_code == 201
    case = Case.objects.get(number=json_of(by_address)[0]["service_request_id"])
    assert case.address == "和平街12号" and case.lat is None
    assert post(web, light(api_key, lat=None, long=None, address_id="#NOTPINPOINTED#")).status_code == 201


def test_description_may_be_absent(city, web, api_key):
    response = post(web, light(api_key, description=None))
    assert response.status_code == 201
    assert Case.objects.get().description == "路灯不亮"  # the service name stands in


def test_citizen_from_name_email_and_phone(city, web, api_key):
    response = post(web, light(api_key, first_name="三", last_name="张", email="zs@example.org",
                               phone="13800138000", case_type="complaint"))
    case = Case.objects.get(number=json_of(response)[0]["service_request_id"])
    assert case.citizen.name == "张三" and case.case_type == "complaint"
    kinds = set(case.citizen.identities.values_list("kind", flat=True))
    assert kinds == {"email", "phone"}


def test_anonymous_request(city, web, api_key):
    response = post(web, light(api_key))
    assert Case.objects.get(number=json_of(response)[0]["service_request_id"]).citizen is None


def test_english_request_records_the_language(city, web, api_key):
    response = post(web, light(api_key, locale="en"))
    (answer,) = json_of(response)
    assert answer["service_notice"].startswith("Registered by the 12345 hotline")
    assert Case.objects.get().language == "en"


# --- attributes against the service definition -------------------------------------------------------


def pothole(key, **attributes):
    fields = light(key, service_code=POTHOLE, description="路面有个大坑")
    fields.update({f"attribute[{k}]" if not k.endswith("[]") else f"attribute[{k[:-2]}][]": v
                   for k, v in attributes.items()})
    return fields


def test_valid_attributes_are_stored(city, web, api_key, questions):
    response = post(web, pothole(api_key, depth="shallow", **{"hazards[]": ["traffic", "water"]}, width_cm="35.5",
                                 seen_at="2024-05-03T08:00:00+08:00", note="ignored", uprn="100023336956"))
    assert response.status_code == 201, response.content
    data = Interaction.objects.get().data["attributes"]
    assert data == {"depth": "shallow", "hazards": ["traffic", "water"], "width_cm": "35.5",
                    "seen_at": "2024-05-03T08:00:00+08:00", "uprn": "100023336956"}


def test_multivaluelist_also_as_repeated_key(city, web, api_key, questions):
    response = post(web, pothole(api_key, depth="deep", hazards=["traffic", "water"]))
    assert response.status_code == 201
    assert Interaction.objects.get().data["attributes"]["hazards"] == ["traffic", "water"]


@pytest.mark.parametrize(("attributes", "words"), [
    ({}, "attribute[depth] is required"),
    ({"depth": "bottomless"}, "attribute[depth]: bottomless"),
    ({"depth": ["deep", "shallow"]}, "attribute[depth] takes one value"),
    ({"depth": "deep", "hazards[]": ["traffic", "fire"]}, "attribute[hazards]: fire"),
    ({"depth": "deep", "width_cm": "wide"}, "attribute[width_cm] must be a number"),
    ({"depth": "deep", "seen_at": "yesterday"}, "attribute[seen_at]"),
])
def test_attributes_are_checked(city, web, api_key, questions, attributes, words):
    errors = assert_errors_json(post(web, pothole(api_key, **attributes), HTTP_ACCEPT_LANGUAGE="en"), 400)
    assert any(words in e["description"] for e in errors), errors
    assert nothing_stored()


def test_every_attribute_problem_is_reported_at_once(city, web, api_key, questions):
    response = post(web, pothole(api_key, width_cm="wide"), fmt="xml", HTTP_ACCEPT_LANGUAGE="en")
    descriptions = assert_errors_xml(response, 400)
    assert len(descriptions) == 2
    assert "attribute[depth] is required" in descriptions[0] and "width_cm" in descriptions[1]


def test_required_attribute_error_in_chinese_by_default(city, web, api_key, questions):
    errors = assert_errors_json(post(web, pothole(api_key)), 400)
    assert "坑有多深？" in errors[0]["description"]


# --- uploads --------------------------------------------------------------------------------------------


def jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (20, 10), "blue")
    exif = Image.Exif()
    exif[0x010F] = "SecretPhoneMaker"
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_multipart_photo_is_checked_and_stripped(city, web, api_key):
    photo = io.BytesIO(jpeg_with_exif())
    photo.name = "IMG_1.jpg"
    response = web.post(f"{BASE}/requests.json", {**light(api_key), "photo1": photo})
    assert response.status_code == 201, response.content
    att = Attachment.objects.get()
    assert att.content_type == "image/jpeg" and b"SecretPhoneMaker" not in att.file.read()


def test_upload_that_is_no_picture_is_refused(city, web, api_key):
    fake = io.BytesIO(b"MZ\x90\x00 not a picture")
    fake.name = "photo.jpg"
    assert_errors_json(web.post(f"{BASE}/requests.json", {**light(api_key), "photo1": fake}), 400)
    assert nothing_stored()


def test_unreadable_body_is_400_in_the_spec_format(city, web, api_key):
    response = web.generic("POST", f"{BASE}/requests.json", b"--x\r\nbroken",
                           content_type="multipart/form-data; boundary=")
    assert_errors_json(response, 400)
    assert nothing_stored()
