"""The agent's pages: the screen pop, linking a call, and the follow-up list with its script and form."""

import pytest
from django.utils import timezone

from govcrm.cases.models import Case, CaseEvent
from govcrm.cases.tests.factories import register
from govcrm.cases.workflow import Status
from govcrm.channels.callcentre.models import Call
from govcrm.channels.intake import IntakeMessage, intake_receive
from govcrm.channels.models import Interaction
from govcrm.citizens.actions import citizen_input_clean

from .conftest import sequence, to_follow_up

pytestmark = pytest.mark.django_db

POP = "/channels/cti/pop/"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def agent_client(client, city):
    client.force_login(city.users["agent"])
    return client


def test_the_pop_shows_the_callers_record_open_cases_and_last_contacts(city, pbx, agent_client):
    case = register(city.actor("agent"))
    intake_receive(IntakeMessage(channel="wechat", text="路灯还没修", external_id="m-77",
                                 citizen=citizen_input_clean(phone="13800138000", wechat_openid="oPENID1234567"),
                                 case_number=case.number))
    pbx(sequence("answered_call.json")[0])
    response = agent_client.get(POP, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="screen-pop"' in html and "来电" in html
    assert "张三" in html and "+8613800138000" in html  # an agent sees the name and number in clear
    assert "oPEN…4567" in html and "oPENID1234567" not in html  # the openid stays masked for agents
    assert f'href="/console/cases/{case.number}/"' in html
    assert "路灯还没修" in html  # the last contact
    assert "/console/intake/?phone=%2B8613800138000&amp;call=1773577200.1042" in html


def test_the_poll_answers_204_while_nothing_changed(city, pbx, agent_client):
    pbx(sequence("answered_call.json")[0])
    call = Call.objects.get()
    token = f"{call.pk}.ringing.0.0"
    assert agent_client.get(POP, {"shown": token}, headers=HTMX).status_code == 204
    pbx(sequence("answered_call.json")[1])
    changed = agent_client.get(POP, {"shown": token}, headers=HTMX)
    assert changed.status_code == 200 and "通话中" in changed.content.decode()


def test_no_call_no_pop(city, pbx, agent_client, client):
    pbx({**sequence("answered_call.json")[0], "agent": "dispatcher"})
    html = agent_client.get(POP, headers=HTMX).content.decode()
    assert 'id="screen-pop"' in html and "张三" not in html and "1773577200.1042" not in html
    page = agent_client.get(POP)
    assert page.status_code == 200 and "目前没有您的来电" in page.content.decode()


def test_the_pop_is_for_centre_staff_only(city, client):
    assert client.get(POP).status_code == 302  # to the sign-in page
    client.force_login(city.users["street_handler"])
    assert client.get(POP).status_code == 403


def test_linking_the_call_from_the_pop(city, pbx, agent_client):
    case = register(city.actor("agent"))
    for event in sequence("answered_call.json"):
        pbx(event)
    response = agent_client.post("/channels/cti/calls/1773577200.1042/link", {"case": case.number})
    assert response.status_code == 302 and response["Location"] == f"/console/cases/{case.number}/"
    assert Call.objects.get().case == case and Interaction.objects.get(channel="phone").case == case


def test_linking_with_htmx_answers_the_pop(city, pbx, agent_client):
    case = register(city.actor("agent"))
    pbx(sequence("answered_call.json")[0])
    response = agent_client.post("/channels/cti/calls/1773577200.1042/link", {"case": case.number}, headers=HTMX)
    assert response.status_code == 200 and "此通话已关联工单" in response.content.decode()


def test_linking_to_an_unknown_case_is_refused(city, pbx, agent_client):
    pbx(sequence("answered_call.json")[0])
    response = agent_client.post("/channels/cti/calls/1773577200.1042/link", {"case": "20990101000001"})
    assert response.status_code == 422 and Call.objects.get().case is None
    assert agent_client.post("/channels/cti/calls/1773577200.1042/link", {}).status_code == 422
    assert agent_client.get("/channels/cti/calls/1773577200.1042/link").status_code == 405


def test_the_follow_up_list(city, agent_client, follow_up_case):
    register(city.actor("agent"))  # registered, not waiting for a follow-up
    response = agent_client.get("/channels/cti/followups/")
    html = response.content.decode()
    assert response.status_code == 200
    assert follow_up_case.number in html and "+8613800138000" in html
    assert Case.objects.count() == 2 and html.count("/channels/cti/followups/2") == 1


def test_the_script_is_in_the_citizens_language(city, agent_client, follow_up_case):
    html = agent_client.get(f"/channels/cti/followups/{follow_up_case.number}/").content.decode()
    assert "您好，这里是12345政务服务便民热线。请问是张三吗？" in html
    day = timezone.localtime(follow_up_case.created_at)  # the city's date, as the number has it (not UTC's)
    assert f"我们就您 {day:%Y-%m-%d} 反映的诉求 {follow_up_case.number} 回访：" in html
    assert "路灯已于3月16日修复。" in html and 'lang="zh-hans"' in html
    english = to_follow_up(city, register(city.actor("agent"), citizen={"name": "Ann Lee", "phone": "13900139000",
                                                                           "language": "en"}))
    html = agent_client.get(f"/channels/cti/followups/{english.number}/").content.decode()
    assert "Hello, this is the 12345 citizen service hotline. Am I speaking with Ann Lee?" in html
    assert 'lang="en"' in html


def test_recording_a_follow_up_closes_the_case(city, agent_client, follow_up_case):
    response = agent_client.post(f"/channels/cti/followups/{follow_up_case.number}/", {
        "reached": "yes", "resolved": "yes", "satisfied": "no", "rating": "2", "note": "修好了，但拖得太久。"})
    assert response.status_code == 302 and response["Location"] == "/channels/cti/followups/"
    case = Case.objects.get(pk=follow_up_case.pk)
    assert case.status == Status.CLOSED and case.resolved is True and case.satisfied is False and case.rating == 2
    event = CaseEvent.objects.get(case=case, action="follow_up")
    assert event.actor_name == "agent" and event.reason == "修好了，但拖得太久。"


def test_not_reached_is_a_note_and_the_case_keeps_waiting(city, agent_client, follow_up_case):
    response = agent_client.post(f"/channels/cti/followups/{follow_up_case.number}/",
                                 {"reached": "no", "note": "无人接听"})
    assert response.status_code == 302
    case = Case.objects.get(pk=follow_up_case.pk)
    assert case.status == Status.FOLLOW_UP
    note = CaseEvent.objects.filter(case=case, action="note").last()
    assert note.reason == "回访电话：未联系上市民。 无人接听"


def test_a_reached_citizen_needs_the_answers(city, agent_client, follow_up_case):
    response = agent_client.post(f"/channels/cti/followups/{follow_up_case.number}/", {"reached": "yes"})
    assert response.status_code == 422
    assert Case.objects.get(pk=follow_up_case.pk).status == Status.FOLLOW_UP
    assert "请询问市民并记录回答。" in response.content.decode()


def test_a_case_not_waiting_for_follow_up(city, agent_client):
    case = register(city.actor("agent"))
    response = agent_client.get(f"/channels/cti/followups/{case.number}/")
    assert response.status_code == 302 and response["Location"] == "/channels/cti/followups/"
    assert agent_client.post(f"/channels/cti/followups/{case.number}/", {"reached": "no"}).status_code == 302
    assert not CaseEvent.objects.filter(case=case, action="note").exists()


def test_follow_ups_are_for_centre_staff(city, client, follow_up_case):
    client.force_login(city.users["street_handler"])
    assert client.get("/channels/cti/followups/").status_code == 403
    assert client.post(f"/channels/cti/followups/{follow_up_case.number}/", {"reached": "no"}).status_code == 403


def test_the_slot_the_console_includes(city, rf):
    from django.template.loader import render_to_string

    request = rf.get("/console/")
    request.actor = city.actor("agent")
    html = render_to_string("callcentre/_pop_slot.html", {"request": request})
    assert 'aria-live="polite"' in html and 'hx-get="/channels/cti/pop/"' in html
    request.actor = city.actor("street_handler")
    assert render_to_string("callcentre/_pop_slot.html", {"request": request}).strip() == ""
