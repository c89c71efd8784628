"""Reply quality: the pure score in Chinese and English, its edge cases, and the console at review."""

import datetime as dt
import time

import pytest
from django.utils import translation

from govcrm.cases.models import Case
from govcrm.console.tests import conftest as console_fixtures
from govcrm.intelligence.replies import Verdict, reply_score

# The console's helpers: a signed-in client per staff member, a case made through the real actions.
client_for = console_fixtures.client_for
street_case = console_fixtures.street_case

TZ = dt.timezone(dt.timedelta(hours=8))
RECEIVED = dt.datetime(2024, 5, 6, 9, 0, tzinfo=TZ)
DUE = dt.datetime(2024, 5, 20, 17, 0, tzinfo=TZ)

ZH_MESSAGE = "和平街12号门口的路灯坏了三天，晚上很黑，行人容易摔倒，请尽快修理。"
ZH_TITLE = "和平街路灯不亮"
ZH_GOOD = (
    "张先生您好！您反映的和平街12号门口路灯不亮的问题已收悉。经我办工作人员5月7日现场核查，该路灯因线路老化"
    "短路导致不亮。我办已安排市政维修队于5月8日更换线路和灯具，路灯现已恢复照明，并对和平街其余路灯进行了排查。"
    "根据《城市道路照明设施管理规定》，我办将每月巡查一次。如有疑问，请拨打联系电话0731-88886666。感谢您对我们工作的支持！"
)
ZH_POOR = "您好，您反映的问题已转交相关部门调查处理。"

EN_MESSAGE = "The street light outside 12 Elm Street has been out for three days and the pavement is dark at night."
EN_TITLE = "Street light out on Elm Street"
EN_GOOD = (
    "Dear Ms Smith, thank you for your report about the street light outside 12 Elm Street. Our crew inspected "
    "the light on 7 May and found a failed cable. The cable and the lamp were replaced on 8 May and the light "
    "has been working since; we also checked the other lights on Elm Street. Under the street lighting policy "
    "we inspect the street every month. If you have any questions, please call 555-0134. Kind regards."
)
EN_POOR = "Your message has been forwarded to the relevant department for handling."


def score(message, title, reply, *, replied_at, due_at=DUE, language="zh-hans"):
    return reply_score(message=message, title=title, reply=reply, received_at=RECEIVED, replied_at=replied_at,
                       due_at=due_at, language=language)


def codes(result):
    return {r.code for r in result.reasons}


@pytest.mark.parametrize(("message", "title", "good", "poor", "language"), [
    (ZH_MESSAGE, ZH_TITLE, ZH_GOOD, ZH_POOR, "zh-hans"),
    (EN_MESSAGE, EN_TITLE, EN_GOOD, EN_POOR, "en"),
])
def test_a_relevant_complete_timely_reply_beats_a_forwarded_late_one(message, title, good, poor, language):
    on_time = score(message, title, good, replied_at=DUE - dt.timedelta(days=3), language=language)
    late = score(message, title, poor, replied_at=DUE + dt.timedelta(days=10), language=language)

    assert on_time.verdict == Verdict.GOOD, on_time
    assert late.verdict == Verdict.POOR, late
    assert on_time.relevance > late.relevance
    assert on_time.completeness > late.completeness
    assert on_time.timeliness == 1.0
    assert 0 < late.timeliness < 0.5
    assert on_time.overall > late.overall + 0.3
    assert {"forwarded_only", "late", "no_place", "no_contact"} <= codes(late)
    assert not {"forwarded_only", "late", "no_place", "no_contact", "no_facts", "no_action"} & codes(on_time)


def test_the_place_named_in_the_message_is_looked_for_in_the_reply():
    elsewhere = ZH_GOOD.replace("和平街", "解放路")
    result = score(ZH_MESSAGE, ZH_TITLE, elsewhere, replied_at=DUE)
    place = next(r for r in result.reasons if r.code == "no_place")
    assert place.detail == "和平街"
    assert result.relevance < score(ZH_MESSAGE, ZH_TITLE, ZH_GOOD, replied_at=DUE).relevance


def test_an_answer_about_something_else_is_off_topic():
    other = ("您好！经查，解放路菜市场的噪音问题已由城管执法队现场处理，责令商户整改。"
             "如有疑问请拨打0731-88886666。感谢您的支持！")
    result = score(ZH_MESSAGE, ZH_TITLE, other, replied_at=DUE)
    assert "off_topic" in codes(result)
    assert result.verdict != Verdict.GOOD


def test_missing_contact_is_a_reason_and_costs_completeness():
    without = ZH_GOOD.replace("如有疑问，请拨打联系电话0731-88886666。", "")
    result = score(ZH_MESSAGE, ZH_TITLE, without, replied_at=DUE)
    assert "no_contact" in codes(result)
    assert result.completeness < score(ZH_MESSAGE, ZH_TITLE, ZH_GOOD, replied_at=DUE).completeness


def test_reasons_are_translated_when_shown():
    result = score(ZH_MESSAGE, ZH_TITLE, ZH_POOR, replied_at=DUE)
    with translation.override("en"):
        texts = [str(r.text) for r in result.reasons]
    assert "The reply only says the message was forwarded" in texts
    assert "No contact for follow-up" in texts


def test_an_empty_reply_is_poor_with_one_reason():
    result = score(ZH_MESSAGE, ZH_TITLE, "   ", replied_at=DUE)
    assert (result.relevance, result.completeness, result.overall, result.verdict) == (0, 0, 0, Verdict.POOR)
    assert codes(result) == {"empty"}


def test_without_a_deadline_the_lag_counts():
    quick = score(ZH_MESSAGE, ZH_TITLE, ZH_GOOD, replied_at=RECEIVED + dt.timedelta(days=5), due_at=None)
    slow = score(ZH_MESSAGE, ZH_TITLE, ZH_GOOD, replied_at=RECEIVED + dt.timedelta(days=40), due_at=None)
    very_slow = score(ZH_MESSAGE, ZH_TITLE, ZH_GOOD, replied_at=RECEIVED + dt.timedelta(days=90), due_at=None)
    assert quick.timeliness == 1.0
    assert 0 < slow.timeliness < 1
    assert very_slow.timeliness == 0
    assert "slow" in codes(slow) and "slow" not in codes(quick)


def test_without_a_reply_time_timeliness_does_not_count():
    result = score(ZH_MESSAGE, ZH_TITLE, ZH_GOOD, replied_at=None)
    assert result.timeliness is None
    assert result.overall == pytest.approx((result.relevance + result.completeness) / 2, abs=0.002)


def test_scoring_one_reply_is_fast():
    score(ZH_MESSAGE, ZH_TITLE, ZH_GOOD, replied_at=DUE)  # loads jieba and the table once
    started = time.perf_counter()
    for _ in range(20):
        score(ZH_MESSAGE * 3, ZH_TITLE, ZH_GOOD * 2, replied_at=DUE)
    assert (time.perf_counter() - started) / 20 < 0.05


def _replied(client_for, street_case, reply):
    street = client_for("street_handler")
    for action, data in [("accept", {}), ("reply", {"reply-reply": reply})]:
        r = street.post(f"/console/cases/{street_case.number}/actions/{action}/", data)
        assert r.status_code == 302, action
    assert Case.objects.get(pk=street_case.pk).status == "replied"


@pytest.mark.django_db
def test_the_review_page_shows_the_score_to_the_centre(client_for, street_case):
    _replied(client_for, street_case, "已转交相关部门处理。")
    html = client_for("dispatcher", language="en").get(f"/console/cases/{street_case.number}/").content.decode()
    assert 'id="move-review"' in html
    assert "Reply quality" in html
    assert "Verdict: Poor" in html
    assert '<th scope="row">Relevance to the message</th>' in html
    assert "The reply only says the message was forwarded" in html
    assert "The reply does not mention the place named in the message (和平街)" in html


@pytest.mark.django_db
def test_a_good_reply_is_shown_as_good_and_the_unit_does_not_see_the_score(client_for, street_case):
    _replied(client_for, street_case, ZH_GOOD)
    html = client_for("dispatcher", language="en").get(f"/console/cases/{street_case.number}/").content.decode()
    assert "Verdict: Good" in html
    unit_html = client_for("street_handler").get(f"/console/cases/{street_case.number}/").content.decode()
    assert "reply-quality" not in unit_html


@pytest.mark.django_db
def test_no_score_before_the_unit_replies(client_for, street_case):
    html = client_for("dispatcher").get(f"/console/cases/{street_case.number}/").content.decode()
    assert "reply-quality" not in html
