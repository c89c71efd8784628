"""Helpers of the Open311 tests: a client with its key, questions, the official schemas, XML parsing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import defusedxml.ElementTree as SafeET
import jsonschema
import pytest
from django.test import Client
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from govcrm.cases.models import Category
from govcrm.channels.open311.actions import open311_client_create
from govcrm.channels.open311.models import ServiceQuestion

SCHEMAS = Path(__file__).parent / "schemas"
FIXTURES = Path(__file__).parent.parent / "fixtures"
BASE = "/open311/v2"
POTHOLE = "urban.roads.pothole"
LIGHT = "urban.lighting.out"
# mySociety's server regex for Open311 datetimes (open311-adapter Schema.pm): W3C, seconds, a zone.
W3C_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")

_registry = Registry().with_resources(
    (p.name, Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT4))
    for p in SCHEMAS.glob("*.json")
)
_formats = jsonschema.FormatChecker(formats=())


@_formats.checks("date-time")
def _date_time(value) -> bool:
    return not isinstance(value, str) or bool(W3C_RE.match(value))


@_formats.checks("uri")
def _uri(value) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


def validate(data, schema: str) -> None:
    """Validate against an official schema (by file name), formats included."""
    contents = _registry.contents(schema)
    jsonschema.Draft4Validator(contents, registry=_registry, format_checker=_formats).validate(data)


def xml_root(response):
    """The response parsed with defusedxml, after checking the declaration and the content type."""
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return SafeET.fromstring(response.content)


def json_of(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def assert_errors_json(response, status: int) -> list[dict]:
    assert response.status_code == status, response.content
    data = json_of(response)
    assert isinstance(data, list) and data
    assert all(set(e) == {"code", "description"} and e["description"] for e in data)
    return data


def assert_errors_xml(response, status: int) -> list[str]:
    assert response.status_code == status, response.content
    root = xml_root(response)
    assert root.tag == "errors"
    errors = list(root)
    assert errors and all(e.tag == "error" and [c.tag for c in e] == ["code", "description"] for e in errors)
    return [e.findtext("description") for e in errors]


@pytest.fixture
def fms(city):
    """A FixMyStreet client and its api_key."""
    client, key = open311_client_create(name="fixmystreet")
    return client, key


@pytest.fixture
def api_key(fms) -> str:
    return fms[1]


@pytest.fixture
def web() -> Client:
    return Client()


@pytest.fixture
def questions(city) -> list[ServiceQuestion]:
    """Questions of the pothole service: a required list, a multi-list, a number, a datetime, info."""
    pothole = Category.objects.get(code=POTHOLE)
    return [
        ServiceQuestion.objects.create(
            category=pothole, code="depth", datatype="singlevaluelist", required=True, order=1,
            description="坑有多深？", description_en="How deep is the pothole?",
            values=[{"key": "shallow", "name_zh": "浅", "name_en": "Shallow"},
                    {"key": "deep", "name_zh": "深", "name_en": "Deep"}]),
        ServiceQuestion.objects.create(
            category=pothole, code="hazards", datatype="multivaluelist", order=2, description="有哪些危险？",
            description_en="Which hazards?",
            values=[{"key": "traffic", "name_zh": "车流", "name_en": "Traffic"},
                    {"key": "water", "name_zh": "积水", "name_en": "Standing water"}]),
        ServiceQuestion.objects.create(category=pothole, code="width_cm", datatype="number", order=3,
                                       description="大约多宽（厘米）？", datatype_description="厘米"),
        ServiceQuestion.objects.create(category=pothole, code="seen_at", datatype="datetime", order=4,
                                       description="什么时候看到的？"),
        ServiceQuestion.objects.create(category=pothole, code="note", datatype="text", order=5, variable=False,
                                       description="紧急险情请拨打110。"),
    ]


def fixture_body(name: str, api_key: str) -> str:
    """A replayable POST body from fixtures/, with the test's api_key put in."""
    return (FIXTURES / name).read_text(encoding="utf-8").strip().replace("__API_KEY__", api_key)
