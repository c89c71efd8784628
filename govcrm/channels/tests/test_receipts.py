"""Peak-hour receipts (ADR 0023): answered when kept, registered by the worker, never lost or doubled."""

from __future__ import annotations

import io
import json
import re
import uuid
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.test import Client

from govcrm.cases.models import Case, Category, IdempotencyRecord
from govcrm.cases.tests.factories import LEAF, dispatch_rule
from govcrm.channels import receipts
from govcrm.channels.models import Interaction, Receipt
from govcrm.channels.open311.actions import open311_client_create
from govcrm.channels.tasks import register_receipts
from govcrm.citizens.models import Citizen

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded; charset=utf-8"
PHONE = "13800138000"


@pytest.fixture
def peak(settings):
    settings.GOVCRM_INTAKE_RECEIPTS = True


def portal_form(**over) -> dict:
    data = {"token": str(uuid.uuid4()), "category": LEAF, "case_type": "complaint",
            "description": "和平街12号门口的路灯坏了三天，晚上很黑。", "address": "和平街12号", "lat": "", "lon": "",
            "name": "王五", "phone": PHONE, "email": ""}
    data.update(over)
    return data


def shown_keys(response) -> tuple[str, str]:
    html = response.content.decode()
    return (re.search(r'id="case-number">(\d+)<', html).group(1), re.search(r'id="query-code">(\d+)<', html).group(1))


def test_portal_request_is_answered_from_its_receipt_then_registered_as_promised(city, peak):
    dispatch_rule(LEAF, city.street1, None)
    browser = Client()
    form = portal_form()
    response = browser.post("/", form, follow=True)
    assert response.status_code == 200
    number, code = shown_keys(response)
    # Kept, not registered: the receipt holds the request, encrypted; no case, no citizen yet.
    receipt = Receipt.objects.get()
    assert (receipt.number, receipt.query_code, receipt.state) == (number, code, "pending")
    assert PHONE not in receipt.payload and "路灯" not in receipt.payload
    assert Case.objects.count() == 0 and Citizen.objects.count() == 0
    # The citizen can follow it at once: the case page says it is being registered.
    page = browser.get(f"/track/{number}/")
    assert page.status_code == 200 and 'id="receipt-state"' in page.content.decode()
    # A double click: the same answer, nothing more kept.
    again = browser.post("/", form)
    assert again.status_code == 302 and number in again["Location"]
    assert Receipt.objects.count() == 1

    assert register_receipts.call() == 1
    case = Case.objects.get()
    assert (case.number, case.query_code, case.channel) == (number, code, "portal")
    # Its clocks start when the request was received (the register event's time), not when the worker got to it.
    assert case.events.get(action="register").at == receipt.received_at
    assert case.lead_unit == city.street1 and case.status == "dispatched"
    assert case.citizen.name == "王五"
    assert Interaction.objects.get(case=case).external_id == form["token"]
    receipt.refresh_from_db()
    assert receipt.state == "registered" and receipt.case == case
    assert 'id="receipt-state"' not in browser.get(f"/track/{number}/").content.decode()
    # Registering again (a second worker, a re-run job) doubles nothing.
    assert receipts.receipts_register() == (0, 0)
    assert Case.objects.count() == 1 and Interaction.objects.count() == 1
    assert browser.post("/", form)["Location"].endswith(f"/submitted/{number}/")


def test_portal_tracking_finds_a_pending_receipt_by_number_and_code(city, peak):
    number, code = shown_keys(Client().post("/", portal_form(), follow=True))
    other = Client()
    wrong = other.post("/track/", {"number": number, "code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 404
    right = other.post("/track/", {"number": number, "code": code}, follow=True)
    assert right.status_code == 200 and 'id="receipt-state"' in right.content.decode()


def test_bad_input_gets_its_error_and_keeps_nothing(city, peak):
    response = Client().post("/", portal_form(category="urban.lighting"))  # not a leaf
    assert response.status_code == 422
    assert Receipt.objects.count() == 0 and Case.objects.count() == 0


def test_open311_batch_service_answers_a_token_then_the_id(city, peak):
    _client, key = open311_client_create(name="fixmystreet")
    web = Client()
    services = json.loads(web.get("/open311/v2/services.json").content)
    assert {s["type"] for s in services} == {"batch"}
    fields = {"api_key": key, "service_code": LEAF, "description": "路灯不亮", "lat": "39.915", "long": "116.404",
              "phone": PHONE}
    response = web.post("/open311/v2/requests.json", urlencode(fields), content_type=FORM)
    assert response.status_code == 201, response.content
    (answer,) = json.loads(response.content)
    assert set(answer) >= {"token", "service_notice"} and "service_request_id" not in answer
    token = answer["token"]
    assert json.loads(web.get(f"/open311/v2/tokens/{token}.json").content) == [{"token": token}]
    retry = web.post("/open311/v2/requests.json", urlencode(fields), content_type=FORM)
    assert retry.status_code == 200 and json.loads(retry.content)[0]["token"] == token
    assert Receipt.objects.count() == 1

    register_receipts.call()
    case = Case.objects.get()
    assert json.loads(web.get(f"/open311/v2/tokens/{token}.json").content) == [
        {"service_request_id": case.number, "token": token}]
    after = web.post("/open311/v2/requests.json", urlencode(fields), content_type=FORM)
    assert json.loads(after.content)[0]["token"] == token and Case.objects.count() == 1


def test_rest_respond_async_is_202_with_a_receipt_to_poll(city, peak, api_client_for):
    client = api_client_for("agent")
    body = {"category": LEAF, "case_type": "inquiry", "description": "请问办证时间",
            "citizen": {"name": "李四", "phone": PHONE}}

    def post(payload, **headers):
        return client.post("/api/v1/cases", data=json.dumps(payload), content_type="application/json",
                           headers={"Prefer": "respond-async", **headers})

    first = post(body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == 202, first.content
    assert first["Preference-Applied"] == "respond-async"
    number = first.json()["number"]
    assert first["Location"] == f"/api/v1/receipts/{number}"
    assert client.get(first["Location"]).json()["state"] == "pending"
    assert post(body, **{"Idempotency-Key": "k-1"}).json()["number"] == number
    assert post({**body, "description": "别的"}, **{"Idempotency-Key": "k-1"}).status_code == 409
    assert post({**body, "case_type": "nonsense"}).status_code == 422
    assert Receipt.objects.count() == 1

    register_receipts.call()
    polled = client.get(f"/api/v1/receipts/{number}").json()
    assert polled["state"] == "registered" and polled["case_url"] == f"/api/v1/cases/{number}"
    case = Case.objects.get(number=number)
    assert case.registered_by.username == "agent" and case.citizen.name == "李四"
    assert IdempotencyRecord.objects.get(key="k-1").case == case
    retried = post(body, **{"Idempotency-Key": "k-1"})
    assert retried.status_code == 200 and retried.json()["number"] == number
    # Sent again without the preference: the same case (the two paths share the key).
    same = client.post("/api/v1/cases", data=json.dumps(body), content_type="application/json",
                       headers={"Idempotency-Key": "k-1"})
    assert same.status_code == 200 and same.json()["number"] == number
    # Without the preference the API registers at once, as always.
    direct = client.post("/api/v1/cases", data=json.dumps(body), content_type="application/json")
    assert direct.status_code == 201 and Case.objects.count() == 2


def test_receipts_are_off_by_default(city, api_client_for):
    response = Client().post("/", portal_form(), follow=True)
    assert response.status_code == 200 and Receipt.objects.count() == 0 and Case.objects.count() == 1
    client = api_client_for("agent")
    r = client.post("/api/v1/cases", data=json.dumps({"category": LEAF, "case_type": "inquiry", "description": "问"}),
                    content_type="application/json", headers={"Prefer": "respond-async"})
    assert r.status_code == 201


def test_a_category_withdrawn_before_registration_is_registered_unclassified(city, peak):
    number, _code = shown_keys(Client().post("/", portal_form(), follow=True))
    Category.objects.filter(code=LEAF).update(active=False)
    from govcrm.common.reference import invalidate

    invalidate()
    register_receipts.call()
    assert Case.objects.get(number=number).category.code == "other.general.unclassified"


def test_a_failing_registration_stays_pending_and_is_retried(city, peak, monkeypatch):
    number, _code = shown_keys(Client().post("/", portal_form(), follow=True))
    second, _ = shown_keys(Client().post("/", portal_form(description="第二件事"), follow=True))

    real = receipts._register

    def flaky(receipt):
        if receipt.number == number:
            raise RuntimeError("database hiccup")
        return real(receipt)

    monkeypatch.setattr(receipts, "_register", flaky)
    assert receipts.receipts_register() == (1, 2)  # the other one is not held back
    kept = Receipt.objects.get(number=number)
    # Only the kind of error is kept: a database error's text may quote a row's personal data.
    assert kept.state == "pending" and kept.attempts == 1 and kept.error == "RuntimeError"
    assert not Case.objects.filter(number=number).exists() and Case.objects.filter(number=second).exists()
    for _ in range(receipts.MAX_ATTEMPTS - 1):
        receipts.receipts_register()
    assert Receipt.objects.get(number=number).state == "failed"
    monkeypatch.setattr(receipts, "_register", real)
    assert Client().get(f"/submitted/{number}/").status_code == 404  # not this browser's
    call_command("receipts", "retry", stdout=io.StringIO())  # the operator's retry, cause fixed
    assert receipts.receipts_register() == (1, 1) and Case.objects.filter(number=number).exists()


def test_a_receipt_queues_the_registrar_in_its_own_commit_unless_one_waits(city, peak, settings):
    """On the database task backend the job is a row of the receipt's own transaction."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "govcrm.common.jobs.DatabaseBackend"}}
    jobs = DBTaskResult.objects.filter(task_path="govcrm.channels.tasks.register_receipts")
    Client().post("/", portal_form())
    assert jobs.count() == 1
    Client().post("/", portal_form())  # the waiting job will find this one too: no second job
    assert jobs.count() == 1 and Receipt.objects.count() == 2
    jobs.update(status="RUNNING")  # once it has started, the next receipt queues another
    Client().post("/", portal_form())
    assert jobs.count() == 2
    assert register_receipts.call() == 3


def test_a_direct_retry_of_a_pending_receipt_is_told_to_wait_and_makes_no_second_case(city, peak, api_client_for):
    client = api_client_for("agent")
    body = {"category": LEAF, "case_type": "inquiry", "description": "请问办证时间"}
    first = client.post("/api/v1/cases", data=json.dumps(body), content_type="application/json",
                        headers={"Prefer": "respond-async", "Idempotency-Key": "k-2"})
    assert first.status_code == 202
    direct = client.post("/api/v1/cases", data=json.dumps(body), content_type="application/json",
                         headers={"Idempotency-Key": "k-2"})
    assert direct.status_code == 409 and direct.json()["code"] == "idempotency_in_progress"
    other = client.post("/api/v1/cases", data=json.dumps({**body, "description": "别的"}),
                        content_type="application/json", headers={"Idempotency-Key": "k-2"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    assert Case.objects.count() == 0
    register_receipts.call()
    assert Case.objects.count() == 1 and IdempotencyRecord.objects.count() == 1


def test_a_citizens_kind_and_language_are_checked_and_kept(city, api_client_for):
    client = api_client_for("agent")
    body = {"category": LEAF, "case_type": "inquiry", "description": "问", "citizen": {"name": "赵六", "phone": PHONE}}
    for bad in ({"kind": "nonsense"}, {"language": "xx-yy-zz-long"}):
        r = client.post("/api/v1/cases", data=json.dumps({**body, "citizen": {**body["citizen"], **bad}}),
                        content_type="application/json")
        assert r.status_code == 422, r.content
    assert client.post("/api/v1/cases", data=json.dumps(body), content_type="application/json").status_code == 201
    # A person with a phone number is a person (the identity's kind once overwrote the citizen's).
    assert Citizen.objects.get().kind == "person"


def test_the_sweep_does_not_hold_back_a_requests_registrar(city, peak, settings):
    """A periodic sweep waiting at low priority is not "a registrar job waiting": a receipt then
    queues its own job at a request's priority, so it is not registered after every other job."""
    from django_tasks_db.models import DBTaskResult

    from govcrm.common.management.commands.worker import periodic_task

    settings.TASKS = {"default": {"BACKEND": "govcrm.common.jobs.DatabaseBackend"}}
    periodic_task("govcrm.channels.tasks.register_receipts").enqueue()
    Client().post("/", portal_form())
    priorities = sorted(DBTaskResult.objects.filter(task_path="govcrm.channels.tasks.register_receipts")
                        .values_list("priority", flat=True))
    assert priorities == [-10, 0]


def test_on_postgresql_a_new_request_is_kept_in_one_statement_and_anything_else_answered_as_before(city, peak):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from govcrm.cases.models import CaseNumberSequence
    from govcrm.channels.intake import IntakeMessage, intake_receive

    if connection.vendor != "postgresql":
        pytest.skip("the one-statement take is PostgreSQL's; SQLite takes the careful path (tested above)")

    def message(key: str, **over) -> IntakeMessage:
        return IntakeMessage(**{"channel": "portal", "external_id": key, "text": "和平街12号门口的路灯坏了三天。",
                                "category": LEAF, **over})

    day = timezone.localtime().strftime("%Y%m%d")
    CaseNumberSequence.objects.update_or_create(day=day, defaults={"last": 999_998})
    receipts.receipt_take(message("k-0"))  # reference data read, the registrar's job queued
    with CaptureQueriesContext(connection) as statements:
        first = receipts.receipt_take(message("k-1"))
    assert len(statements) == 1 and statements[0]["sql"].startswith("WITH drawn AS")
    assert first.created and first.number == f"{day}1000000"  # as case_number_draw writes it, never cut
    # A retry: nothing more kept, the same answer (a number of the day is spent on it: a gap).
    again = receipts.receipt_take(message("k-1"))
    assert (again.created, again.number, again.query_code) == (False, first.number, first.query_code)
    assert Receipt.objects.count() == 2
    # A key registered directly before receipts were switched on: its case, no receipt.
    direct = intake_receive(message("k-2"))
    assert direct.case is not None
    answered = receipts.receipt_take(message("k-2"))
    assert (answered.number, answered.registered) == (direct.case.number, True)
    assert Receipt.objects.count() == 2
    # Refused input stores nothing and is told so, by the same checks as a direct registration.
    with pytest.raises(receipts.ValidationFailed):
        receipts.receipt_take(message("k-3", category="no.such.category"))
    assert Receipt.objects.count() == 2 and not Receipt.objects.filter(natural_key="portal:k-3").exists()
    # A value too long for its column is refused, not cut (the statement casts to text).
    with pytest.raises(Exception):  # noqa: B017, PT011 - the database's own error
        receipts.receipt_take(message("k" * 400))


def test_a_registrar_that_stops_on_a_full_batch_queues_the_next(city, peak, settings, monkeypatch):
    """More pending receipts than one job registers: the job queues another, not left to the sweep."""
    from django_tasks_db.models import DBTaskResult

    from govcrm.channels import tasks

    settings.TASKS = {"default": {"BACKEND": "govcrm.common.jobs.DatabaseBackend"}}
    monkeypatch.setattr(tasks, "MAX_BATCHES", 1)
    monkeypatch.setattr(tasks, "BATCH", 2)
    for _ in range(3):
        Client().post("/", portal_form())
    jobs = DBTaskResult.objects.filter(task_path="govcrm.channels.tasks.register_receipts")
    jobs.delete()  # as if the receipts' job had been lost: one job is run by hand
    assert register_receipts.call() == 2
    assert jobs.filter(status="READY").count() == 1  # the rest is queued, not waiting for the sweep
    assert register_receipts.call() == 1
    assert jobs.filter(status="READY").count() == 1  # stopped short of a full batch: nothing more
    assert Receipt.objects.filter(state="pending").count() == 0
