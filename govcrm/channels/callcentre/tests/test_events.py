"""POST /channels/cti/events: token, idempotent events, the call log, and the IVR survey."""

import datetime as dt

import pytest

from govcrm.cases.models import Case, CaseEvent
from govcrm.cases.tests.factories import register
from govcrm.cases.workflow import Status
from govcrm.channels.callcentre.actions import call_link_case, survey_answer
from govcrm.channels.callcentre.models import Call, CallEvent
from govcrm.channels.models import Interaction
from govcrm.citizens.models import Citizen
from govcrm.organization.models import StaffProfile

from .conftest import sequence

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("token", ["", "wrong-token", "test-cti-token-but-longer"])
def test_events_need_the_token(city, pbx, token):
    (ringing, *_rest) = sequence("answered_call.json")
    response = pbx(ringing, token=token)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert not Call.objects.exists() and not CallEvent.objects.exists()


def test_no_token_configured_refuses_everything(city, pbx, settings):
    settings.GOVCRM_CTI_TOKEN = ""
    assert pbx(sequence("answered_call.json")[0], token="anything").status_code == 401


def test_an_answered_call_is_logged_on_the_callers_timeline(city, pbx):
    case = register(city.actor("agent"))  # 张三 called before: his record is found at ringing
    ringing, answered, ended = sequence("answered_call.json")
    answer = pbx(ringing).json()
    assert answer == {"status": "ok", "call_id": "1773577200.1042", "state": "ringing", "case": None,
                      "survey": None}
    call = Call.objects.get()
    assert call.caller == "+8613800138000" and call.agent == "agent" and call.citizen == case.citizen
    assert not Interaction.objects.filter(channel="phone").exists()  # logged when it ends
    assert pbx(answered).json()["state"] == "answered"
    assert pbx(ended).json()["state"] == "ended"
    call.refresh_from_db()
    assert call.recording_url.endswith("/1773577200.1042.wav")
    assert call.ended_at - call.answered_at == dt.timedelta(minutes=3, seconds=12)
    logged = Interaction.objects.get(channel="phone")
    assert logged.external_id == "1773577200.1042" and logged.citizen == case.citizen and logged.case is None
    assert logged.content == "电话，通话时长 3:12"
    assert logged.data == {"call_id": "1773577200.1042", "caller": "+8613800138000", "agent": "agent",
                           "answered": True, "ring_seconds": 8, "talk_seconds": 192,
                           "recording_url": "https://pbx.example.gov.cn/recordings/2026/03/15/1773577200.1042.wav"}


def test_every_event_counts_once(city, pbx):
    events = sequence("answered_call.json")
    for event in events:
        pbx(event)
    for event in events:
        assert pbx(event).json()["status"] == "duplicate"
    assert Call.objects.count() == 1 and CallEvent.objects.count() == 3
    assert Interaction.objects.filter(channel="phone").count() == 1


def test_late_events_do_not_move_the_call_back(city, pbx):
    ringing, answered, ended = sequence("answered_call.json")
    pbx(ended)
    pbx(ringing)
    assert pbx(answered).json()["state"] == "ended"


def test_a_missed_call_from_a_new_number_with_the_agent_by_extension(city, pbx):
    StaffProfile.objects.filter(user__username="agent").update(phone_extension="8001")
    ringing, ended = sequence("missed_call.json")
    pbx(ringing)
    call = Call.objects.get()
    assert call.agent == "agent" and call.caller == "+8613900139000" and call.citizen is None
    assert not Citizen.objects.exists()  # nobody is created just because the phone rang
    pbx(ended)
    call.refresh_from_db()
    logged = Interaction.objects.get(channel="phone")
    assert logged.content == "未接来电" and logged.data["answered"] is False and logged.data["ring_seconds"] == 30
    assert call.citizen == logged.citizen
    assert call.citizen.identities.get(kind="phone").value == "+8613900139000"


def test_a_withheld_number(city, pbx):
    pbx({"event": "ringing", "call_id": "c-anon", "caller": "anonymous", "agent": "agent"})
    pbx({"event": "ended", "call_id": "c-anon"})
    call = Call.objects.get()
    assert call.caller == "anonymous" and call.citizen is None
    assert Interaction.objects.get(channel="phone").citizen is None


def test_the_call_of_a_linked_case_joins_it(city, pbx):
    case = register(city.actor("agent"))
    ringing, answered, ended = sequence("answered_call.json")
    pbx(ringing)
    pbx(answered)
    call_link_case(actor=city.actor("agent"), call_id="1773577200.1042", case_number=case.number)
    assert pbx(ended).json()["case"] == case.number
    assert Interaction.objects.get(channel="phone").case == case


def test_linking_after_the_end_moves_the_call_to_the_case(city, pbx):
    for event in sequence("answered_call.json"):
        pbx(event)
    case = register(city.actor("agent"))
    call_link_case(actor=city.actor("agent"), call_id="1773577200.1042", case_number=case.number)
    assert Call.objects.get().case == case and Interaction.objects.get(channel="phone").case == case


@pytest.mark.parametrize(("digits", "resolved", "satisfied", "code"), [
    ("1", True, True, "ivr_satisfied"),
    ("2", True, True, "ivr_basically_satisfied"),
    ("3", False, False, "ivr_not_satisfied"),
    ("31", True, False, "ivr_not_satisfied"),
    ("12", False, True, "ivr_satisfied"),
])
def test_survey_digits(digits, resolved, satisfied, code):
    answer = survey_answer(digits)
    assert (answer.resolved, answer.satisfied, answer.code) == (resolved, satisfied, code)


@pytest.mark.parametrize("digits", ["0", "4", "9", "*", "#1"])
def test_other_digits_mean_nothing(digits):
    assert survey_answer(digits) is None


def test_the_ivr_survey_digit_is_the_follow_up(city, pbx, follow_up_case):
    case = follow_up_case
    ringing, answered, dtmf, ended = sequence("survey_call.json", case=case.number)
    pbx(ringing)
    pbx(answered)
    answer = pbx(dtmf).json()
    assert answer["survey"] == "applied" and answer["case"] == case.number
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.resolved is True and case.satisfied is True
    event = CaseEvent.objects.get(case=case, action="follow_up")
    assert event.actor_name == "channel:phone" and event.reason_code == "ivr_basically_satisfied"
    assert event.data == {"resolved": True, "satisfied": True, "rating": None}
    assert pbx(dtmf).json()["status"] == "duplicate"
    pbx(ended)
    assert Interaction.objects.get(channel="phone").case == case
    assert CaseEvent.objects.filter(case=case, action="follow_up").count() == 1


def test_a_survey_before_the_case_is_in_follow_up_is_only_recorded(city, pbx):
    case = register(city.actor("agent"))
    ringing, answered, dtmf, _ended = sequence("survey_call.json", case=case.number)
    for event in (ringing, answered):
        pbx(event)
    assert pbx(dtmf).json()["survey"] == "recorded"
    case.refresh_from_db()
    assert case.status == Status.REGISTERED and Call.objects.get().survey_digits == "2"


def test_a_survey_keyed_in_before_linking_is_applied_at_linking(city, pbx, follow_up_case):
    ringing, answered, dtmf, _ended = sequence("survey_call.json", case="")
    for event in (ringing, answered, dtmf):
        event.pop("case", None)
        pbx(event)
    assert Call.objects.get().survey_applied is False
    call_link_case(actor=city.actor("agent"), call_id="1773650400.2210", case_number=follow_up_case.number)
    case = Case.objects.get(pk=follow_up_case.pk)
    assert case.status == Status.CLOSED and Call.objects.get().survey_applied


def test_a_meaningless_digit_is_kept_but_not_applied(city, pbx, follow_up_case):
    event = {"event": "dtmf", "call_id": "c9", "digits": "9", "case": follow_up_case.number}
    assert pbx(event).json()["survey"] == "invalid"
    assert Case.objects.get(pk=follow_up_case.pk).status == Status.FOLLOW_UP


@pytest.mark.parametrize("event", [
    {"event": "hangup", "call_id": "c1"},
    {"event": "ringing"},
    {"event": "ringing", "call_id": "c1", "at": "yesterday"},
    {"event": "ended", "call_id": "c1", "recording_url": "javascript:alert(1)"},
    {"event": "dtmf", "call_id": "c1"},
    {"event": "dtmf", "call_id": "c1", "digits": "1; DROP"},
    {"event": "ringing", "call_id": "c1", "case": "not-a-number"},
    ["not", "an", "object"],
])
def test_malformed_events_are_refused(city, pbx, event):
    response = pbx(event)
    assert response.status_code == 422 and response.json()["status"] == "error"
    assert not Call.objects.exists()


def test_a_time_without_offset_is_local_time(city, pbx):
    pbx({"event": "ringing", "call_id": "c2", "caller": "13800138000", "at": "2026-03-15T20:14:07"})
    assert Call.objects.get().started_at == dt.datetime(2026, 3, 15, 12, 14, 7, tzinfo=dt.UTC)


def test_get_is_not_allowed(client):
    assert client.get("/channels/cti/events").status_code == 405
