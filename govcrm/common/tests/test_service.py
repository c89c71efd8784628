"""The service's outer interfaces: /healthz, the OpenAPI document, the token command, the worker task."""

import io

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_reports_the_database():
    r = Client().get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_healthz_503_when_the_database_fails(monkeypatch):
    from django.db import connection

    def broken(*args, **kwargs):
        raise connection.Database.OperationalError("down")

    monkeypatch.setattr(connection, "cursor", broken)
    r = Client().get("/healthz")
    assert r.status_code == 503 and r.json()["status"] == "error"


def test_openapi_lists_the_case_endpoints():
    doc = Client().get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for p in ("/api/v1/cases", "/api/v1/cases/{number}", "/api/v1/cases/{number}/actions/{action}",
              "/api/v1/categories", "/api/v1/units", "/api/v1/citizens/{citizen_id}"):
        assert p in paths, p


def test_token_command_prints_a_working_token(city):
    out = io.StringIO()
    call_command("token", "create", "dispatcher", stdout=out)
    token = out.getvalue().strip()
    assert token.startswith("gcrm_")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/v1/cases").status_code == 200
    call_command("token", "revoke", token[:12], stdout=io.StringIO())
    assert client.get("/api/v1/cases").status_code == 401


def test_tokens_are_stored_hashed(city):
    import hashlib

    from govcrm.organization.actions import api_token_create
    from govcrm.organization.models import ApiToken

    token = api_token_create(username="agent")
    record = ApiToken.objects.get()
    assert record.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (record.digest, record.prefix, record.name)


def test_session_auth_for_the_console(city):
    client = Client()
    client.force_login(city.users["dispatcher"])
    assert client.get("/api/v1/cases").status_code == 200


def test_user_without_staff_role_is_refused(db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("nobody", password="x-12345-y")
    client = Client()
    client.force_login(user)
    r = client.get("/api/v1/cases")
    assert r.status_code == 403 and r.json()["message"]


def test_deadline_task_runs(city):
    import datetime as dt

    from govcrm.cases.models import Case
    from govcrm.cases.tasks import check_deadlines
    from govcrm.cases.tests.factories import move, register

    case = register(city.actor("agent"))
    move(city.actor("dispatcher"), case, "dispatch", unit="gov-d1s1")
    Case.objects.filter(pk=case.pk).update(reply_due=case.created_at - dt.timedelta(days=1))
    result = check_deadlines.enqueue()
    assert result.return_value == 1
    assert Case.objects.get(pk=case.pk).supervision_level == 1
