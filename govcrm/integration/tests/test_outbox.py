"""The webhook outbox: written with the change or not at all, one INSERT, free without subscribers; filters."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from govcrm.cases.actions import case_transition
from govcrm.cases.models import Case, CaseEvent, Category
from govcrm.cases.tests.factories import OTHER_LEAF, move, register
from govcrm.citizens.crypto import decrypt
from govcrm.common.errors import NotAllowed
from govcrm.integration import cloudevents
from govcrm.integration.actions import webhooks_for_case_event
from govcrm.integration.models import Delivery

from .factories import subscriber

pytestmark = pytest.mark.django_db
URL = "http://127.0.0.1:9/unused"  # nothing is sent in these tests: the outbox rows are what is checked


def _types(sub) -> list[str]:
    return list(Delivery.objects.filter(subscriber=sub).order_by("pk").values_list("event_type", flat=True))


def test_without_subscribers_the_hook_costs_no_query_and_writes_nothing(city):
    case = register(city.actor("agent"))
    event = case.events.order_by("-seq").first()
    webhooks_for_case_event(case=case, event=event)  # warms the reference cache
    with CaptureQueriesContext(connection) as queries:
        assert webhooks_for_case_event(case=case, event=event) == 0
    assert len(queries) == 0
    move(city.actor("dispatcher"), case, "dispatch", unit=city.street1.code)
    assert Delivery.objects.count() == 0


def test_one_insert_per_event_whatever_the_number_of_subscribers(city):
    subs = [subscriber(URL, name=f"s{i}")[0] for i in range(3)]
    subscriber(URL, name="water only", unit=city.water)  # does not match: no row
    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit=city.street1.code)
    case = Case.objects.get(pk=case.pk)
    event = CaseEvent.objects.get(case=case, action="dispatch")
    assert Delivery.objects.filter(event_id=cloudevents.event_id("case-event", event.pk)).count() == 3
    Delivery.objects.all().delete()  # write this event's rows again, the reference cache now warm
    with CaptureQueriesContext(connection) as queries:
        assert webhooks_for_case_event(case=case, event=event) == 3
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 1, statements
    assert statements[0].startswith("INSERT INTO \"integration_delivery\"")
    # the single statement wrote one row per matching subscriber
    for sub in subs:
        assert Delivery.objects.filter(subscriber=sub, event_id=cloudevents.event_id("case-event", event.pk)).exists()


def test_the_event_row_exists_iff_the_change_committed(city):
    sub, _ = subscriber(URL)
    def failing_request():
        with transaction.atomic():
            register(city.actor("agent"), description="回滚的工单")
            assert Delivery.objects.count() == 1  # written inside the transaction…
            raise RuntimeError("the request fails after the case was written")

    with pytest.raises(RuntimeError):
        failing_request()
    assert Delivery.objects.count() == 0  # …and gone with it
    assert not Case.objects.filter(description="回滚的工单").exists()

    case = register(city.actor("agent"))
    assert _types(sub) == ["gov.govcrm.case.registered"]
    # A refused move changes nothing and announces nothing.
    with pytest.raises(NotAllowed):
        case_transition(actor=city.actor("street_handler"), case=case.number, action="reply", data={"reply": "x"})
    assert _types(sub) == ["gov.govcrm.case.registered"]


def test_registration_with_a_dispatch_rule_writes_both_events_in_order(city):
    from govcrm.cases.tests.factories import dispatch_rule

    dispatch_rule("urban.lighting.out", city.street1)
    sub, _ = subscriber(URL)
    case = register(city.actor("agent"))
    rows = list(Delivery.objects.filter(subscriber=sub).order_by("pk"))
    assert [r.event_type for r in rows] == ["gov.govcrm.case.registered", "gov.govcrm.case.dispatched"]
    assert [r.payload["sequence"] for r in rows] == ["0000000001", "0000000002"]
    assert {r.subject for r in rows} == {case.number}


def test_filters_by_type_unit_subtree_and_category(city):
    everything, _ = subscriber(URL, name="all")
    only_some, _ = subscriber(URL, name="accepted+replied", event_types=["gov.govcrm.case.accepted",
                                                                           "gov.govcrm.case.replied"])
    case_star, _ = subscriber(URL, name="case.*", event_types=["gov.govcrm.case.*"])
    apps_only, _ = subscriber(URL, name="applications", event_types=["gov.govcrm.application.*"])
    district, _ = subscriber(URL, name="East District subtree", unit=city.district)
    street2, _ = subscriber(URL, name="Anding street", unit=city.street2)
    water, _ = subscriber(URL, name="water", unit=city.water)
    lighting = Category.objects.get(code="urban.lighting.out").parent
    lights, _ = subscriber(URL, name="lighting", category=lighting)
    noise, _ = subscriber(URL, name="noise", category=Category.objects.get(code=OTHER_LEAF))

    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit=city.street1.code)
    move(city.actor("street_handler"), case, "accept")
    move(city.actor("dispatcher"), case, "transfer", unit=city.water.code, reason="应由自来水公司处理")
    move(city.actor("water_handler"), case, "accept")
    move(city.actor("water_handler"), case, "reply", reply="管道已修好。")

    registered, dispatched, accepted, transferred, replied = (
        f"gov.govcrm.case.{t}" for t in ("registered", "dispatched", "accepted", "transferred", "replied"))
    assert _types(everything) == [registered, dispatched, accepted, transferred, accepted, replied]
    assert _types(case_star) == _types(everything)
    assert _types(only_some) == [accepted, accepted, replied]
    assert _types(apps_only) == []
    # registered: no unit holds the case yet; the street is under the district; the transfer concerns
    # the unit the case leaves (the street, so the district) and the one it goes to (water).
    assert _types(district) == [dispatched, accepted, transferred]
    assert _types(street2) == []
    assert _types(water) == [transferred, accepted, replied]
    assert _types(lights) == _types(everything)
    assert _types(noise) == []


def test_the_envelope_is_cloudevents_and_carries_no_personal_data_or_free_text(city):
    sub, _ = subscriber(URL)
    case = register(city.actor("agent"), citizen={"name": "张三", "phone": "+8613800138000"},
                    description="和平街12号门口的路灯坏了，我的电话13800138000")
    move(city.actor("dispatcher"), case, "dispatch", unit=city.street1.code)
    row = Delivery.objects.filter(subscriber=sub).order_by("pk").last()
    env = row.payload
    assert set(env) == {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "sequence",
                        "data"}
    assert env["specversion"] == "1.0"
    assert env["type"] == "gov.govcrm.case.dispatched"
    assert env["subject"] == case.number
    assert env["source"].startswith("urn:govcrm:")
    assert env["time"].endswith("Z")
    assert env["datacontenttype"] == "application/json"
    assert env["data"]["case"]["lead_unit"] == city.street1.code
    assert env["data"]["case"]["category"] == "urban.lighting.out"
    assert env["data"]["case"]["area"] == "d1s1g1"
    assert env["data"]["event"]["data"]["unit"] == city.street1.code
    text = json.dumps(env, ensure_ascii=False)
    for secret in ("13800138000", "张三", "路灯坏了"):
        assert secret not in text
    # the id is the event row's: the same for every subscriber and every write
    event = case.events.get(action="dispatch")
    assert env["id"] == str(cloudevents.event_id("case-event", event.pk))


def test_the_signing_secret_is_encrypted_at_rest(city):
    sub, secret = subscriber(URL)
    assert secret.startswith("whsec_")
    sub.refresh_from_db()
    assert secret not in sub.secret_encrypted
    assert decrypt(sub.secret_encrypted) == secret


def test_bad_subscriber_input_is_refused_and_stores_nothing(city):
    from govcrm.common.errors import ValidationFailed
    from govcrm.integration.models import Subscriber

    with pytest.raises(ValidationFailed):
        subscriber("ftp://example.org/x")
    with pytest.raises(ValidationFailed):
        subscriber(URL, event_types=["case.dispatched"])  # not a GovCRM type
    with pytest.raises(ValidationFailed):
        subscriber(URL, event_types=["gov.govcrm.*.dispatched"])  # * only at the end
    assert Subscriber.objects.count() == 0



def test_a_co_handler_gets_the_dispatch_that_names_it(city):
    urban, _ = subscriber(URL, name="urban commission", unit=city.urban)
    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit=city.street1.code, co_units=[city.urban.code])
    move(city.actor("street_handler"), case, "accept")
    assert _types(urban) == ["gov.govcrm.case.dispatched"]
    assert Delivery.objects.get(subscriber=urban).payload["data"]["case"]["co_units"] == [city.urban.code]
