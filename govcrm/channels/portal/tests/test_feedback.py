"""The citizen's feedback after the reply, given once, and a request to reopen when not resolved."""

import pytest
from django.test import Client

from govcrm.cases.models import Case, CaseEvent
from govcrm.cases.tests.factories import move, register
from govcrm.cases.workflow import CloseReason, Status

from .conftest import to_follow_up

pytestmark = pytest.mark.django_db

YES = {"resolved": "yes", "satisfied": "yes", "rating": "5"}
UNRESOLVED = {"resolved": "no", "satisfied": "no", "rating": "2"}


def test_feedback_in_follow_up_closes_the_case(city, client, tracked):
    to_follow_up(city, tracked.number)
    page = client.get(f"/track/{tracked.number}/").content.decode()
    assert f'action="/track/{tracked.number}/feedback/"' in page
    response = client.post(f"/track/{tracked.number}/feedback/", {**YES, "rating": "4"}, follow=True)
    assert response.status_code == 200
    case = Case.objects.get()
    assert case.status == Status.CLOSED and case.close_reason == CloseReason.FOLLOWED_UP
    assert (case.resolved, case.satisfied, case.rating) == (True, True, 4)
    event = CaseEvent.objects.get(case=case, action="follow_up")
    assert event.actor_name == "channel:portal" and event.actor_id is None and event.public
    assert event.data == {"resolved": True, "satisfied": True, "rating": 4}
    html = response.content.decode()
    assert 'id="feedback-given"' in html and "4 / 5" in html and "feedback/" not in html


def test_feedback_is_kept_once(city, client, tracked):
    to_follow_up(city, tracked.number)
    client.post(f"/track/{tracked.number}/feedback/", YES)
    client.cookies["django_language"] = "en"
    again = client.post(f"/track/{tracked.number}/feedback/", UNRESOLVED, follow=True)
    assert "Your feedback on this request was already recorded." in again.content.decode()
    case = Case.objects.get()
    assert (case.resolved, case.satisfied, case.rating) == (True, True, 5)
    assert CaseEvent.objects.filter(case=case, action="follow_up").count() == 1


def test_feedback_before_the_reply_is_refused(city, client, tracked):
    client.cookies["django_language"] = "en"
    response = client.post(f"/track/{tracked.number}/feedback/", YES, follow=True)
    assert "This request cannot be rated now." in response.content.decode()
    assert Case.objects.get().status == Status.REGISTERED


def test_incomplete_feedback_is_asked_again(city, client, tracked):
    to_follow_up(city, tracked.number)
    client.cookies["django_language"] = "en"
    response = client.post(f"/track/{tracked.number}/feedback/", {"resolved": "yes"})
    assert response.status_code == 422
    assert "Choose a rating from 1 to 5." in response.content.decode()
    assert Case.objects.get().status == Status.FOLLOW_UP


def test_feedback_needs_the_number_and_code_first(city, tracked):
    to_follow_up(city, tracked.number)
    assert Client().post(f"/track/{tracked.number}/feedback/", YES).status_code == 404
    assert Client().post(f"/track/{tracked.number}/reopen/", {}).status_code == 404
    assert Case.objects.get().status == Status.FOLLOW_UP


def test_not_resolved_then_ask_for_reopening_leaves_a_note_for_the_dispatcher(city, client, tracked):
    to_follow_up(city, tracked.number)
    client.post(f"/track/{tracked.number}/feedback/", UNRESOLVED)
    page = client.get(f"/track/{tracked.number}/").content.decode()
    assert f'action="/track/{tracked.number}/reopen/"' in page
    response = client.post(f"/track/{tracked.number}/reopen/", {"reason": "路灯晚上还是不亮。"}, follow=True)
    assert 'id="reopen-asked"' in response.content.decode()
    note = CaseEvent.objects.get(case=tracked, action="note")
    assert note.reason_code == "reopen_requested" and note.reason == "路灯晚上还是不亮。"
    assert note.actor_name == "channel:portal" and not note.public
    case = Case.objects.get()
    assert case.status == Status.CLOSED and case.resolved is False  # the dispatcher makes the reopen move
    client.cookies["django_language"] = "en"
    again = client.post(f"/track/{tracked.number}/reopen/", {}, follow=True)
    assert "You already asked for this request to be reopened." in again.content.decode()
    assert CaseEvent.objects.filter(case=tracked, action="note").count() == 1


def test_the_reopen_note_carries_its_flag_in_the_data(city, client, tracked):
    to_follow_up(city, tracked.number)
    client.post(f"/track/{tracked.number}/feedback/", UNRESOLVED)
    client.post(f"/track/{tracked.number}/reopen/", {})
    assert CaseEvent.objects.get(case=tracked, action="note").data.get("reopen_requested") is True


def test_no_reopening_is_offered_when_resolved(city, client, tracked):
    to_follow_up(city, tracked.number)
    client.post(f"/track/{tracked.number}/feedback/", YES)
    assert "/reopen/" not in client.get(f"/track/{tracked.number}/").content.decode()
    client.cookies["django_language"] = "en"
    refused = client.post(f"/track/{tracked.number}/reopen/", {}, follow=True)
    assert "only after you said the problem is not resolved" in refused.content.decode()
    assert not CaseEvent.objects.filter(case=tracked, action="note").exists()


def test_after_a_reopen_a_new_round_can_be_rated(city, client, tracked):
    to_follow_up(city, tracked.number)
    client.post(f"/track/{tracked.number}/feedback/", UNRESOLVED)
    client.post(f"/track/{tracked.number}/reopen/", {})
    move(city.actor("dispatcher"), tracked.number, "reopen", reason="市民要求重办")
    for who, action, data in [("street_handler", "accept", {}),
                              ("street_handler", "reply", {"reply": "已更换灯泡。"}),
                              ("dispatcher", "review", {})]:
        move(city.actor(who), tracked.number, action, **data)
    page = client.get(f"/track/{tracked.number}/").content.decode()
    assert "已更换灯泡。" in page and "/feedback/" in page
    client.post(f"/track/{tracked.number}/feedback/", YES)
    case = Case.objects.get()
    assert (case.status, case.resolved, case.rating) == (Status.CLOSED, True, 5)


def test_a_case_answered_at_first_contact_is_rated_by_a_note(city):
    case = register(city.actor("agent"), resolve_now_reply="本市居住证办理需携带身份证和租房合同。",
                    category="urban.lighting.out")
    client = Client()
    client.post("/track/", {"number": case.number, "code": case.query_code})
    page = client.get(f"/track/{case.number}/").content.decode()
    assert "本市居住证办理需携带身份证和租房合同。" in page and "/feedback/" in page
    client.post(f"/track/{case.number}/feedback/", {"resolved": "yes", "satisfied": "no", "rating": "3"})
    note = CaseEvent.objects.get(case=case, action="note")
    assert note.reason_code == "citizen_feedback" and note.actor_name == "channel:portal"
    assert "3/5" in note.reason and note.data == {"resolved": True, "satisfied": False, "rating": 3}
    page = client.get(f"/track/{case.number}/").content.decode()
    assert "/feedback/" not in page and "/reopen/" not in page  # resolved: no reopening offered
    client.post(f"/track/{case.number}/feedback/", YES)
    assert CaseEvent.objects.filter(case=case, action="note").count() == 1


def test_a_first_contact_answer_that_did_not_help_can_be_reopened(city):
    case = register(city.actor("agent"), resolve_now_reply="请联系物业。", category="urban.lighting.out")
    client = Client()
    client.post("/track/", {"number": case.number, "code": case.query_code})
    client.post(f"/track/{case.number}/feedback/", UNRESOLVED)
    assert f'action="/track/{case.number}/reopen/"' in client.get(f"/track/{case.number}/").content.decode()
    client.post(f"/track/{case.number}/reopen/", {"reason": "物业不管。"})
    reopen = CaseEvent.objects.get(case=case, action="note", reason_code="reopen_requested")
    assert reopen.data["reopen_requested"] is True and reopen.reason == "物业不管。"
