"""What an intake costs the database, and that the cheaper path answers the same (bench/load.py).

The statement budgets are regression guards for the figures in bench/RESULTS.md ("Load test"):
an intake went from 38 statements (3 write transactions) to the counts below without giving up
anything the intake promises (stored in one transaction before the answer, idempotent).
"""

import json
import uuid

import pytest
from django.db import connection

from govcrm.cases import actions
from govcrm.cases.models import Case, CaseEvent, CaseNumberSequence
from govcrm.cases.tests.factories import LEAF, dispatch_rule
from govcrm.channels.intake import IntakeMessage, intake_receive
from govcrm.citizens.actions import citizen_input_clean
from govcrm.common import fastsql

pytestmark = pytest.mark.django_db


def post(client, body, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/api/v1/cases", data=json.dumps(body), content_type="application/json", headers=headers)


BODY = {"category": LEAF, "case_type": "complaint", "description": "和平路的路灯坏了", "area": "d1s1g1",
        "channel": "phone", "citizen": {"name": "张三", "phone": "+8613800138000"},
        "location": {"lat": 39.9, "lon": 116.4}}


def test_post_answer_is_what_a_read_shows(city, api_client_for):
    """The answer is built from the case in memory: it must equal a fresh read, field by field."""
    dispatch_rule(LEAF, city.street1, city.street_area)
    client = api_client_for("agent")
    created = post(client, BODY, key="k-1")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "dispatched" and body["lead_unit"]["code"] == "gov-d1s1"
    read = client.get(f"/api/v1/cases/{body['number']}").json()
    assert body == read
    retried = post(client, BODY, key="k-1")
    assert retried.status_code == 200 and retried.json() == read


def test_api_intake_statement_budget(city, api_client_for, django_assert_max_num_queries):
    """Registration, citizen, rule dispatch, notification, idempotency record and the answer.
    Statements are cheap now (common/fastsql.py): the token and its user are two plain reads
    rather than one ORM join, which costs more Python than both."""
    dispatch_rule(LEAF, city.street1, city.street_area)
    client = api_client_for("agent")
    post(client, {**BODY, "citizen": {"name": "李四", "phone": "+8613900139000"}}, key="warm-up")
    with django_assert_max_num_queries(21) as captured:
        r = post(client, BODY, key=str(uuid.uuid4()))
    assert r.status_code == 201
    # Dispatched by rule as it is registered: inserted once with its unit, never updated right after
    # (that UPDATE would write every index of the table again, the full-text one included).
    case_writes = [q["sql"].split()[0] for q in captured.captured_queries if '"cases_case" ' in q["sql"]
                   and q["sql"].split()[0] in ("INSERT", "UPDATE")]
    assert case_writes == ["INSERT"]
    case = Case.objects.get(number=r.json()["number"])
    assert list(CaseEvent.objects.filter(case=case).values_list("seq", "action")) == [(1, "register"),
                                                                                      (2, "dispatch")]
    assert case.assignments.filter(active=True).count() == 1


def test_channel_intake_statement_budget(city, django_assert_max_num_queries):
    citizen = citizen_input_clean(name="王五", phone="+8613700137000")
    intake_receive(IntakeMessage(channel="portal", external_id="warm-up", text="路灯坏了", category=LEAF,
                                 citizen=citizen))
    with django_assert_max_num_queries(9):
        result = intake_receive(IntakeMessage(channel="portal", external_id=str(uuid.uuid4()), text="路灯又坏了",
                                              category=LEAF, area="d1s1g1", citizen=citizen))
    assert result.created and result.new_case
    assert result.case.citizen_id == result.interaction.citizen_id


def test_number_drawn_before_the_intake_transaction(city, monkeypatch):
    """The day's counter row is locked only by the draw, not for the whole registration."""
    depth = {}
    draw = actions.case_number_draw

    def spy(now=None):
        depth["draw"] = len(connection.atomic_blocks)
        return draw(now)

    original_insert = fastsql.insert

    def insert(obj):
        if isinstance(obj, Case):
            depth.setdefault("insert", len(connection.atomic_blocks))
        return original_insert(obj)

    monkeypatch.setattr("govcrm.channels.intake.case_number_draw", spy)
    monkeypatch.setattr(fastsql, "insert", insert)
    intake_receive(IntakeMessage(channel="portal", external_id="t-1", text="路灯坏了", category=LEAF))
    assert depth["draw"] < depth["insert"]


def test_numbers_of_a_day_are_consecutive(city):
    first = actions.case_number_draw()
    second = actions.case_number_draw()
    assert second[:8] == first[:8] and int(second[8:]) == int(first[8:]) + 1
    assert CaseNumberSequence.objects.get(day=first[:8]).last == int(second[8:])


def test_jobs_of_an_intake_are_rows_of_its_own_transaction_on_the_database_backend(city, settings):
    """GOVCRM_TASKS_BACKEND=database: the notification and suggestion jobs commit with the case
    (one commit per intake, common/jobs.py) — and vanish with it when the intake fails."""
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from govcrm.notifications.models import Notification

    settings.TASKS = {"default": {"BACKEND": "govcrm.common.jobs.DatabaseBackend"}}
    citizen = citizen_input_clean(name="赵六", phone="+8613600136000")

    class Failed(Exception):
        pass

    jobs_inside = []

    def intake_then_fail():
        with transaction.atomic():
            intake_receive(IntakeMessage(channel="sms", external_id="rolled-back", text="路灯坏了", category=LEAF,
                                         citizen=citizen))
            jobs_inside.append(DBTaskResult.objects.filter(task_path__endswith="send_notification").count())
            raise Failed

    with pytest.raises(Failed):
        intake_then_fail()
    assert jobs_inside == [1]  # the job row is written inside the intake's transaction
    assert not DBTaskResult.objects.exists() and not Notification.objects.exists() and not Case.objects.exists()

    intake_receive(IntakeMessage(channel="sms", external_id="kept", text="路灯坏了", category=LEAF,
                                 citizen=citizen))
    note = Notification.objects.get()
    job = DBTaskResult.objects.get(task_path__endswith="send_notification")
    assert job.args_kwargs["args"] == [note.pk]
