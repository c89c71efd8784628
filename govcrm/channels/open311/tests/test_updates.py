"""mySociety's servicerequestupdates: the case's public events out (GET), citizens' comments in (POST)."""

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from govcrm.cases.models import Case, CaseEvent
from govcrm.cases.tests.factories import move
from govcrm.channels.models import Interaction
from govcrm.channels.open311.actions import open311_client_create

from .conftest import BASE, LIGHT, W3C_RE, assert_errors_json, assert_errors_xml, fixture_body, json_of, xml_root

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded; charset=utf-8"
UPDATE_ELEMENTS = ["update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"]
# open311-adapter's status_extended (the GET variant, lower case).
EXTENDED = {"open", "closed", "fixed", "in_progress", "action_scheduled", "investigating", "duplicate",
            "not_councils_responsibility", "no_further_action", "internal_referral", "reopen", "for_triage"}


def submit(web, key, **over) -> str:
    fields = {"api_key": key, "service_code": LIGHT, "description": "路灯不亮", "lat": "39.915", "long": "116.404"}
    fields.update(over)
    response = web.post(f"{BASE}/requests.json", urlencode(fields), content_type=FORM)
    assert response.status_code == 201, response.content
    return json_of(response)[0]["service_request_id"]


def updates(web, fmt="json", **query):
    response = web.get(f"{BASE}/servicerequestupdates.{fmt}", query)
    assert response.status_code == 200, response.content
    return json_of(response) if fmt == "json" else xml_root(response)


def test_public_events_are_published_as_updates_in_order(city, web, api_key):
    number = submit(web, api_key)
    d, u = city.actor("dispatcher"), city.actor("urban_handler")
    move(d, number, "dispatch", unit="urban")
    move(u, number, "accept")
    move(u, number, "contact", method="phone")  # not public: not published
    move(u, number, "reply", reply="路灯已修复。")
    move(d, number, "review")  # not public
    move(city.actor("agent"), number, "follow_up", resolved=True, satisfied=True)
    data = updates(web, locale="en")
    assert [u["status"] for u in data] == ["open", "action_scheduled", "in_progress", "fixed", "fixed"]
    assert all(list(u) == UPDATE_ELEMENTS for u in data)
    assert all(u["service_request_id"] == number and u["media_url"] == "" for u in data)
    assert all(W3C_RE.match(u["updated_datetime"]) for u in data)
    assert {u["status"] for u in data} <= EXTENDED
    seqs = CaseEvent.objects.filter(case__number=number, public=True).order_by("seq").values_list("seq", flat=True)
    assert [u["update_id"] for u in data] == [f"{number}-{s}" for s in seqs]
    assert data[1]["description"] == "Sent to Urban Management Commission."
    assert data[3]["description"] == "路灯已修复。"


def test_updates_xml_element_names(city, web, api_key):
    number = submit(web, api_key)
    move(city.actor("dispatcher"), number, "dispatch", unit="urban")
    root = updates(web, "xml")
    assert root.tag == "service_request_updates"
    assert [u.tag for u in root] == ["request_update", "request_update"]
    assert all([c.tag for c in u] == UPDATE_ELEMENTS for u in root)
    assert root[1].findtext("status") == "action_scheduled"
    assert root[1].findtext("description") == "已派至市城市管理委员会。"


def test_other_statuses(city, web, api_key):
    first, second = submit(web, api_key), submit(web, api_key, description="同一盏路灯")
    d = city.actor("dispatcher")
    move(d, second, "merge", into=first)
    third = submit(web, api_key, description="撤回的")
    move(city.actor("agent"), third, "withdraw", reason="市民撤回")
    statuses = {(u["service_request_id"], u["status"]) for u in updates(web)}
    assert (second, "duplicate") in statuses and (third, "closed") in statuses
    assert "市民撤回" not in str(updates(web))  # the reason of a withdrawal is internal


def test_updates_window(city, web, api_key):
    number = submit(web, api_key)
    later = timezone.now() + dt.timedelta(minutes=5)
    assert updates(web, start_date=later.isoformat()) == []
    since = (timezone.now() - dt.timedelta(hours=2)).isoformat()
    assert [u["service_request_id"] for u in updates(web, start_date=since)] == [number]
    errors = assert_errors_json(web.get(f"{BASE}/servicerequestupdates.json",
                                        {"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-06-01T00:00:00Z"}),
                                400)
    assert errors[0]["code"] == 400
    # FixMyStreet also sends its api_key on this GET: accepted, not needed.
    assert updates(web, api_key=api_key, jurisdiction_id="govcrm.localhost")


# --- POST: a citizen's comment from FixMyStreet --------------------------------------------------------


def post_update(web, body, fmt="xml"):
    return web.post(f"{BASE}/servicerequestupdates.{fmt}", body, content_type=FORM)


def test_fixmystreet_update_replayed(city, web, api_key):
    number = submit(web, api_key)
    body = fixture_body("fms_post_update.txt", api_key).replace("__SERVICE_REQUEST_ID__", number)
    response = post_update(web, body)
    assert response.status_code == 200, response.content
    root = xml_root(response)
    assert root.tag == "service_request_updates"
    (update,) = list(root)
    assert update.tag == "request_update" and [c.tag for c in update] == ["update_id"]
    interaction = Interaction.objects.get(external_id="fms-update:fixmystreet:7")
    assert update.findtext("update_id") == f"i{interaction.pk}"
    assert interaction.case.number == number and interaction.content == "Thanks, looks fixed"
    assert interaction.data["status"] == "FIXED" and interaction.data["update_id"] == "7"
    assert interaction.data["media_url"] == ["http://fms.example/photo/c/7.0.full.jpeg"]
    assert interaction.citizen.name == "Jane Citizen"
    note = CaseEvent.objects.filter(case__number=number, action="note").get()
    assert not note.public and note.actor_name == "channel:open311"
    # The case's state is the staff's to change; the citizen's FIXED is recorded, not applied.
    assert Case.objects.get(number=number).status == "registered"
    # Its own comment does not come back to FixMyStreet as an update.
    assert all(u["status"] != "fixed" for u in updates(web))

    again = post_update(web, body)
    assert again.status_code == 200 and again.content == response.content
    assert Interaction.objects.filter(external_id="fms-update:fixmystreet:7").count() == 1
    assert CaseEvent.objects.filter(case__number=number, action="note").count() == 1


def update_fields(key, number, **over):
    fields = {"api_key": key, "service_request_id": number, "update_id": "u1", "status": "OPEN",
              "updated_datetime": "2024-05-03T12:00:00+01:00", "description": "还是不亮"}
    fields.update(over)
    return urlencode({k: v for k, v in fields.items() if v is not None})


def test_update_json_answer(city, web, api_key):
    number = submit(web, api_key)
    data = json_of(post_update(web, update_fields(api_key, number), fmt="json"))
    assert len(data) == 1 and set(data[0]) == {"update_id"} and data[0]["update_id"].startswith("i")


def test_update_id_is_per_client(city, web, api_key):
    number = submit(web, api_key)
    _other, other_key = open311_client_create(name="city-app")
    a = json_of(post_update(web, update_fields(api_key, number), fmt="json"))
    b = json_of(post_update(web, update_fields(other_key, number), fmt="json"))
    assert a != b and Interaction.objects.filter(data__kind="update").count() == 2


def test_update_id_reused_for_another_request_is_refused(city, web, api_key):
    first, second = submit(web, api_key), submit(web, api_key, description="另一盏")
    assert post_update(web, update_fields(api_key, first)).status_code == 200
    errors = assert_errors_json(post_update(web, update_fields(api_key, second), fmt="json"), 400)
    assert "u1" in errors[0]["description"]
    assert not Interaction.objects.filter(case__number=second, data__kind="update").exists()


@pytest.mark.parametrize(("over", "status"), [
    ({"api_key": "o311_wrong"}, 403),
    ({"api_key": None}, 403),
    ({"service_request_id": "20000101000001"}, 404),
    ({"update_id": None}, 400),
    ({"description": None}, 400),
    ({"status": "MAYBE"}, 400),
    ({"updated_datetime": "2024-05-03 12:00"}, 400),
    ({"phone": "42"}, 400),
    ({"jurisdiction_id": "elsewhere.example"}, 404),
])
def test_bad_updates_are_refused_and_store_nothing(city, web, api_key, over, status):
    number = submit(web, api_key)
    key = over.pop("api_key", api_key)
    body = update_fields(key, over.pop("service_request_id", number), **over)
    assert_errors_xml(post_update(web, body), status)
    assert not Interaction.objects.filter(data__kind="update").exists()
    assert not CaseEvent.objects.filter(action="note").exists()


def test_update_on_a_case_not_published_is_404(city, web, api_key):
    from govcrm.cases.tests.factories import register

    phone_case = register(city.actor("agent"))
    assert_errors_xml(post_update(web, update_fields(api_key, phone_case.number)), 404)


def test_lower_case_status_and_empty_description_are_accepted(city, web, api_key):
    number = submit(web, api_key)
    response = post_update(web, update_fields(api_key, number, status="reopen", description=""))
    assert response.status_code == 200
    interaction = Interaction.objects.get(data__kind="update")
    assert interaction.data["status"] == "REOPEN" and "REOPEN" in interaction.content
