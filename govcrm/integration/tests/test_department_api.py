"""A department system with its own unit-scoped token, end to end through the REST API."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from govcrm.cases.models import Case
from govcrm.cases.tests.factories import move, register
from govcrm.common.errors import ValidationFailed
from govcrm.integration.actions import department_token_create
from govcrm.integration.models import Delivery
from govcrm.organization.actions import api_token_create
from govcrm.organization.models import ApiToken, StaffProfile

from .factories import subscriber

pytestmark = pytest.mark.django_db


def _client(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def _dispatched(city, unit, **kw) -> str:
    case = register(city.actor("agent"), **kw)
    move(city.actor("dispatcher"), case, "dispatch", unit=unit.code)
    return case.number


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"message", "code", "details"}
    return body


def test_department_system_accepts_updates_and_replies_to_its_cases_only(city):
    ours = _dispatched(city, city.street1)
    theirs = _dispatched(city, city.water, description="自来水管漏水")
    hook, _ = subscriber("http://127.0.0.1:9/x", unit=city.street1)
    out = io.StringIO()
    call_command("department", "token", city.street1.code, stdout=out, stderr=io.StringIO())
    token = out.getvalue().strip()
    record = ApiToken.objects.get(prefix=token[:12])
    assert record.unit == city.street1 and record.user.username == "system-gov-d1s1"
    assert not record.user.has_usable_password()
    api = _client(token)

    listed = api.get("/api/v1/cases?status=dispatched")
    assert listed.status_code == 200
    assert [c["number"] for c in listed.json()["items"]] == [ours]
    hidden = api.get(f"/api/v1/cases/{theirs}")
    assert hidden.status_code == 404 and _error(hidden)["code"] == "not_found"

    accepted = api.post(f"/api/v1/cases/{ours}/actions/accept", {}, content_type="application/json")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["status"] == "accepted"
    contact = api.post(f"/api/v1/cases/{ours}/actions/contact", {"method": "phone"}, content_type="application/json")
    assert contact.json()["status"] == "in_progress"
    note = api.post(f"/api/v1/cases/{ours}/actions/note", {"reason": "已派人现场查看"}, content_type="application/json")
    assert note.status_code == 200
    replied = api.post(f"/api/v1/cases/{ours}/actions/reply", {"reply": "路灯已于今日修复。"},
                       content_type="application/json")
    assert replied.status_code == 200
    body = replied.json()
    assert body["status"] == "replied" and body["reply"] == "路灯已于今日修复。"
    # The same rules as in the console: the history names the system's account, the deadlines were met.
    case = Case.objects.get(number=ours)
    assert case.accepted_at and case.first_contact_at and case.replied_at
    events = case.events.order_by("seq")
    assert [e.action for e in events][-4:] == ["accept", "contact", "note", "reply"]
    assert {e.actor_name for e in events[2:]} == {"system-gov-d1s1"}
    assert {e.actor_unit_id for e in events[2:]} == {city.street1.pk}
    # Events went to the street's subscriber (the note included).
    types = list(Delivery.objects.filter(subscriber=hook).order_by("pk").values_list("event_type", flat=True))
    assert types[-4:] == ["gov.govcrm.case.accepted", "gov.govcrm.case.contacted", "gov.govcrm.case.note_added",
                          "gov.govcrm.case.replied"]

    # Refused: another unit's case (not found), a centre's move (forbidden), a move the state forbids.
    refused = api.post(f"/api/v1/cases/{theirs}/actions/accept", {}, content_type="application/json")
    assert refused.status_code == 404 and _error(refused)["code"] == "not_found"
    centre_move = api.post(f"/api/v1/cases/{ours}/actions/review", {}, content_type="application/json")
    assert centre_move.status_code == 403 and _error(centre_move)
    again = api.post(f"/api/v1/cases/{ours}/actions/accept", {}, content_type="application/json")
    assert again.status_code == 409 and _error(again)
    registering = api.post("/api/v1/cases", {"category": "urban.lighting.out", "case_type": "complaint",
                                             "description": "x"}, content_type="application/json")
    assert registering.status_code == 403
    assert Case.objects.get(number=theirs).status == "dispatched"


def test_a_unit_scope_narrows_a_wider_account(city, api_client_for):
    in_street1 = _dispatched(city, city.street1)
    in_street2 = _dispatched(city, city.street2)
    # The East District's manager sees both streets with an ordinary token…
    wide = api_client_for("district_manager")
    assert wide.get(f"/api/v1/cases/{in_street1}").status_code == 200
    # …but a token of the same account scoped to the Anding street sees only that street.
    narrow = _client(api_token_create(username="district_manager", unit=city.street2.code))
    assert narrow.get(f"/api/v1/cases/{in_street1}").status_code == 404
    assert narrow.get(f"/api/v1/cases/{in_street2}").status_code == 200
    numbers = [c["number"] for c in narrow.get("/api/v1/cases").json()["items"]]
    assert numbers == [in_street2]
    assert narrow.post(f"/api/v1/cases/{in_street1}/actions/accept", {},
                       content_type="application/json").status_code == 404
    assert narrow.post(f"/api/v1/cases/{in_street2}/actions/accept", {},
                       content_type="application/json").status_code == 200


def test_a_unit_scope_is_refused_outside_the_account_and_when_the_account_moves(city):
    with pytest.raises(ValidationFailed):  # a street handler cannot scope a token to the district above
        api_token_create(username="street_handler", unit=city.district.code)
    with pytest.raises(ValidationFailed):  # a centre role has no unit scope
        api_token_create(username="dispatcher", unit=city.street1.code)
    with pytest.raises(ValidationFailed):
        department_token_create(unit_code=city.street1.code, role="dispatcher")
    with pytest.raises(CommandError):
        call_command("department", "token", "no-such-unit", stdout=io.StringIO(), stderr=io.StringIO())
    assert ApiToken.objects.count() == 0

    number = _dispatched(city, city.street1)
    username, token = department_token_create(unit_code=city.street1.code)
    api = _client(token)
    assert api.get(f"/api/v1/cases/{number}").status_code == 200
    # The account is moved to another street: its old token no longer acts for the first one.
    StaffProfile.objects.filter(user__username=username).update(unit=city.street2)
    moved = api.get(f"/api/v1/cases/{number}")
    assert moved.status_code == 403 and _error(moved)
    # The same account gets a second token for the same unit (the account is reused).
    department_token_create(unit_code=city.street2.code, username=username)
    assert get_user_model().objects.filter(username=username).count() == 1


def test_a_department_token_without_write_scope_cannot_move(city):
    number = _dispatched(city, city.street1)
    department_token_create(unit_code=city.street1.code)  # makes the account
    read_only = _client(api_token_create(username="system-gov-d1s1", scopes=["cases:read"],
                                         unit=city.street1.code))
    assert read_only.get(f"/api/v1/cases/{number}").status_code == 200
    refused = read_only.post(f"/api/v1/cases/{number}/actions/accept", {}, content_type="application/json")
    assert refused.status_code == 403 and _error(refused)["code"] == "insufficient_scope"
