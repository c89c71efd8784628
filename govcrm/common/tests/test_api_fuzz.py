"""The REST API fuzzed from its own OpenAPI document with schemathesis, in process (WSGI).

For every operation of /api/v1/openapi.json, schemathesis generates requests from the schema
(valid and invalid ones) and checks each answer: no 5xx, a status code the operation documents,
a body that matches the documented schema for that status, and the documented content type;
a request the schema calls invalid must be refused with a 4xx.

Two callers: the administrator's bearer token (the most privileged role, which reaches every code
path), and nobody (every operation but the public category tree must answer a documented 401).
The run is bounded (`MAX_EXAMPLES` per operation, derandomised so that CI repeats it exactly);
both runs take about a minute here (25 s of CPU). Open311 has no OpenAPI document (its resources are
checked against the GeoReport v2 JSON Schemas in channels/open311/tests), so only /api/v1/ is fuzzed.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance,
          negative_data_rejection]
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
    suppress_health_check=list(HealthCheck),
)


def _schema():
    """The document the app serves at /api/v1/openapi.json, bound to the app itself (WSGI, in process).

    Built from the NinjaAPI object rather than fetched, because the tests are collected before any
    database exists (and schemathesis' lazy `from_fixture` loader does not run on pytest 9).
    """
    from django.core.wsgi import get_wsgi_application

    from config.api import api

    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1"))
    loaded.app = get_wsgi_application()
    return loaded


schema = _schema()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Schemathesis calls the WSGI app directly, so each request's end would close the database
    connection that holds the test's transaction (PostgreSQL); Django's own test client avoids
    that in the same way, by not closing connections on request signals."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _cases(city):
    """A few cases for the operations to find."""
    from govcrm.cases.tests.factories import register

    for _ in range(3):
        register(city.actor("agent"))


@pytest.fixture
def admin_token(city):
    from govcrm.organization.actions import api_token_create

    return api_token_create(username="admin")


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_the_administrator(case, admin_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)


@pytest.fixture
def department_token(city):
    """A department system's token, limited to the Heping street office (govcrm/integration)."""
    from govcrm.integration.actions import department_token_create

    return department_token_create(unit_code=city.street1.code)[1]


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_a_department_system(case, department_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {department_token}"}, checks=CHECKS)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_without_credentials(case):
    response = case.call_and_validate(checks=CHECKS)
    if case.operation.path == "/api/v1/categories" or case.method.upper() != case.operation.method.upper():
        return  # public; or a method the operation does not have (405, checked above as documented or not)
    # Nothing is served without a credential: 401, or refused before authentication (422: invalid
    # input; 403: a session cookie without the CSRF token).
    assert response.status_code in (401, 403, 422), response.text
    if response.status_code == 403:
        assert response.json()["code"] == "csrf_failed"


def test_the_schema_documents_errors_everywhere(client):
    """Every operation but the public category tree documents 401 and the shared error body."""
    from config.api import api

    doc = api.get_openapi_schema(path_prefix="/api/v1")
    assert client.get("/api/v1/openapi.json").json() == json.loads(json.dumps(doc))  # the same document
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if path == "/api/v1/categories":
                continue
            assert 401 in op["responses"], f"{method.upper()} {path} does not document 401"
