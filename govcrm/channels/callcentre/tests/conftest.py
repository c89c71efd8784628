"""CTI events replayed from ../fixtures/ as the PBX posts them, and cases waiting for follow-up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from govcrm.cases.models import Case
from govcrm.cases.tests.factories import move, register

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
URL = "/channels/cti/events"


def sequence(name: str, **replace: str) -> list[dict]:
    """The events of a fixture, with "{key}" placeholders replaced."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    for key, value in replace.items():
        text = text.replace("{" + key + "}", value)
    return json.loads(text)


@pytest.fixture
def pbx(client):
    """Posts one event (a dict) as the PBX does, with the bearer token unless told otherwise."""

    def post(event: dict, token: str | None = None):
        token = settings.GOVCRM_CTI_TOKEN if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.post(URL, data=json.dumps(event), content_type="application/json", headers=headers)

    return post


def to_follow_up(city, case: Case) -> Case:
    d, s = city.actor("dispatcher"), city.actor("street_handler")
    move(d, case, "dispatch", unit="gov-d1s1")
    move(s, case, "accept")
    move(s, case, "reply", reply="路灯已于3月16日修复。")
    move(d, case, "review")
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def follow_up_case(city) -> Case:
    """A phone case of 张三 (+8613800138000), replied and approved, waiting for its follow-up."""
    return to_follow_up(city, register(city.actor("agent")))
