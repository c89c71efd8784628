"""One case from the call to its closure, entirely through the console's forms."""

import re

import pytest

from govcrm.cases.models import Case

pytestmark = pytest.mark.django_db


def post(client, number, action, data=None):
    r = client.post(f"/console/cases/{number}/actions/{action}/", data or {})
    assert r.status_code == 302, (action, r.status_code, re.findall(r'role="alert">(.*?)</div>', r.content.decode()))
    return Case.objects.get(number=number)


def test_register_dispatch_accept_contact_reply_review_follow_up_close(client_for):
    agent, dispatcher, street = client_for("agent"), client_for("dispatcher"), client_for("street_handler")

    r = agent.post("/console/intake/", {
        "phone": "13800138000", "citizen_name": "张三", "language": "zh-hans", "category": "urban.lighting.out",
        "case_type": "complaint", "urgency": "normal", "description": "和平街路灯不亮", "area": "d1s1g1",
    })
    assert r.status_code == 302
    number = r["Location"].rstrip("/").rsplit("/", 1)[1]
    assert Case.objects.get(number=number).status == "registered"  # no dispatch rule: the centre decides

    assert 'id="move-dispatch"' in dispatcher.get(f"/console/cases/{number}/").content.decode()
    assert post(dispatcher, number, "dispatch", {"dispatch-unit": "gov-d1s1"}).status == "dispatched"
    assert post(street, number, "accept").status == "accepted"
    case = post(street, number, "contact", {"contact-method": "phone", "contact-reason": "已电话联系市民"})
    assert case.status == "in_progress" and case.first_contact_at is not None
    case = post(street, number, "reply", {"reply-reply": "路灯已于今日修复。"})
    assert case.status == "replied" and case.reply == "路灯已于今日修复。"
    assert post(dispatcher, number, "review").status == "follow_up"
    case = post(agent, number, "follow_up", {"follow_up-resolved": "yes", "follow_up-satisfied": "yes",
                                             "follow_up-rating": "5"})
    assert case.status == "closed" and case.close_reason == "followed_up"
    assert (case.resolved, case.satisfied, case.rating) == (True, True, 5)

    actions = list(case.events.order_by("seq").values_list("action", flat=True))
    assert actions == ["register", "dispatch", "accept", "contact", "reply", "review", "follow_up"]
    html = dispatcher.get(f"/console/cases/{number}/").content.decode()
    assert html.count('class="event"') == 7
    assert 'id="move-reopen"' in html  # a closed case can only be reopened
