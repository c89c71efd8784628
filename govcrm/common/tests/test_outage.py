"""The database failing under a request (common/outage.py), in-process on both databases: a clean 503
in the caller's format, nothing written, and the retry of the same request stored once.

The failure is injected with Django's `connection.execute_wrapper`: from a chosen statement on, every
statement raises `OperationalError`, as a connection that dropped does. The same behaviour against a
real PostgreSQL behind a cut TCP proxy, in separate processes, is in test_faults.py.
"""

from __future__ import annotations

import json
import re
import uuid
from contextlib import contextmanager

import defusedxml.ElementTree as SafeET
import pytest
from django.db import OperationalError, connection
from django.test import Client, RequestFactory
from django.utils import translation

from govcrm.cases.models import Case, CaseEvent
from govcrm.cases.tests.factories import LEAF
from govcrm.channels.models import Interaction
from govcrm.channels.open311.actions import open311_client_create
from govcrm.citizens.models import Citizen
from govcrm.common.outage import server_error

ZH = "服务暂时不可用"
EN = "Service briefly unavailable"


@contextmanager
def database_down(from_statement: str = ""):
    """Every statement raises OperationalError once one containing `from_statement` is reached.

    Savepoint statements still pass: the test runs inside a transaction of its own, and rolling back
    to the savepoint is how the server's rollback of the failed request looks from inside it.
    """
    state = {"down": not from_statement}

    def fail(execute, sql, params, many, context):
        if not state["down"] and from_statement in sql:
            state["down"] = True
        if state["down"] and not sql.lstrip().upper().startswith(("SAVEPOINT", "ROLLBACK", "RELEASE")):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail):
        yield


def stored() -> tuple[int, int, int, int]:
    return Case.objects.count(), CaseEvent.objects.count(), Interaction.objects.count(), Citizen.objects.count()


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "服务暂时不可用"), ("en", "briefly unavailable")])
def test_rest_intake_cut_mid_write_is_a_json_503_and_its_retry_registers_once(api_client_for, language, message):
    client = api_client_for("agent")
    body = json.dumps({"category": LEAF, "case_type": "help", "description": "和平街路灯不亮",
                       "channel": "phone", "citizen": {"name": "张三", "phone": "+8613900139000"}})
    headers = {"Idempotency-Key": "outage-1", "Accept-Language": language}
    before = stored()
    with database_down(from_statement='INSERT INTO "cases_caseevent"'):  # the case row is already written
        r = client.post("/api/v1/cases", body, content_type="application/json", headers=headers)
    assert r.status_code == 503 and r["Retry-After"] == "5"
    assert r.json()["code"] == "database_unavailable" and message in r.json()["message"]
    assert stored() == before  # the case, its citizen and its events rolled back together
    first = client.post("/api/v1/cases", body, content_type="application/json", headers=headers)
    again = client.post("/api/v1/cases", body, content_type="application/json", headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["number"] == again.json()["number"]
    assert Case.objects.count() == before[0] + 1


def test_open311_post_during_an_outage_is_the_spec_error_list_with_503(city):
    _client, key = open311_client_create(name="fms")
    form = {"api_key": key, "service_code": LEAF, "description": "Street light out at 12 Heping Road",
            "lat": "39.9", "long": "116.4", "email": "citizen@example.org"}
    before = stored()
    with database_down(from_statement='INSERT INTO "channels_interaction"'):
        as_json = Client().post("/open311/v2/requests.json", form)
    with database_down():
        as_xml = Client().post("/open311/v2/requests.xml", form, headers={"Accept-Language": "en"})
    assert stored() == before
    assert as_json.status_code == 503 and as_json["Retry-After"] == "5"
    assert as_json["Content-Type"].startswith("application/json")
    [error] = as_json.json()
    assert error["code"] == 503 and "服务暂时不可用" in error["description"]
    assert as_xml.status_code == 503
    root = SafeET.fromstring(as_xml.content)
    assert root.tag == "errors" and root.find("error/code").text == "503"
    assert "briefly unavailable" in root.find("error/description").text
    retried = Client().post("/open311/v2/requests.json", form)
    assert retried.status_code == 201 and Case.objects.count() == before[0] + 1


@pytest.mark.parametrize(("language", "title"), [("zh-hans", ZH), ("en", EN)])
def test_portal_request_during_an_outage_is_an_html_page_in_the_citizens_language(city, language, title):
    token = str(uuid.uuid4())
    form = {"token": token, "category": LEAF, "case_type": "complaint", "description": "和平街12号路灯坏了三天",
            "address": "", "lat": "", "lon": "", "name": "", "phone": "13900139001", "email": ""}
    client = Client(headers={"Accept-Language": language})
    before = stored()
    with database_down(from_statement='INSERT INTO "cases_case"'):
        r = client.post("/", form)
    assert r.status_code == 503 and r["Retry-After"] == "5"
    html = r.content.decode()
    assert r["Content-Type"].startswith("text/html") and f"<title>{title}" in html
    assert f'lang="{language}"' in html and "Content-Security-Policy" in r
    assert stored() == before
    done = client.post("/", form)
    assert done.status_code == 302 and done.url.startswith("/submitted/")
    assert client.post("/", form).url == done.url  # the browser's retry of the same form: the same case
    assert Case.objects.count() == before[0] + 1


def test_console_page_during_an_outage_is_a_503_page(city):
    # The outage is met while a middleware loads the signed-in user, outside any view: handler500
    # answers. The test client must not re-raise the exception to show that answer.
    client = Client(raise_request_exception=False)
    client.login(username="dispatcher", password="pass-12345")
    with database_down():
        r = client.get("/console/", headers={"Accept-Language": "en"})
    assert r.status_code == 503 and f"<title>{EN}" in r.content.decode()
    assert client.get("/console/").status_code in (200, 302)  # back without intervention


def test_an_outage_met_outside_a_view_is_a_503_and_other_errors_stay_500():
    request = RequestFactory().get("/api/v1/cases")
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        r = server_error(request)
    assert r.status_code == 503 and r["Content-Type"] == "application/json"
    with translation.override("en"):
        try:
            raise ValueError("a bug")
        except ValueError:
            other = server_error(RequestFactory().get("/"))
    assert other.status_code == 500
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        o311 = server_error(RequestFactory().post("/open311/v2/requests.json"))
    assert o311.status_code == 503 and json.loads(o311.content)[0]["code"] == 503
    assert not re.search("unavailable", other.content.decode())


def test_the_worker_loop_resumes_after_an_outage_and_other_errors_still_end_it(monkeypatch):
    from govcrm.common.management.commands import worker

    monkeypatch.setattr(worker, "OUTAGE_PAUSE", 0)
    calls = []

    def task_loop():  # db_worker's loop: it stops on the first connection error
        calls.append(len(calls))
        if len(calls) < 3:
            raise OperationalError("connection refused")

    worker.run_through_outages(task_loop)
    assert calls == [0, 1, 2]  # ran again after each outage, returned when the loop ended normally

    def buggy():
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        worker.run_through_outages(buggy)


def test_a_session_saved_during_an_outage_raises_the_outage_not_a_bad_request(db, monkeypatch):
    from django.contrib.sessions.models import Session
    from django.db import OperationalError

    from govcrm.common.outage import is_unavailable
    from govcrm.common.sessions import SessionStore

    session = SessionStore()
    session["k"] = 1
    session.save()

    def unreachable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(Session, "save", unreachable)
    session["k"] = 2
    with pytest.raises(OperationalError) as caught:
        session.save()
    assert is_unavailable(caught.value)
