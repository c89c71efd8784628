"""The case page and its moves: what is shown, what each role may do, and refusals that change nothing."""

import pytest

from govcrm.cases.models import Case, CaseEvent
from govcrm.cases.tests.factories import move, register

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(case, action=None):
    base = f"/console/cases/{case.number}/"
    return f"{base}actions/{action}/" if action else base


def state(case) -> tuple[str, int]:
    case = Case.objects.get(pk=case.pk)
    return case.status, case.events.count()


def test_case_page_shows_fields_deadlines_timeline_and_citizen(client_for, street_case):
    r = client_for("dispatcher").get(url(street_case))
    assert r.status_code == 200
    html = r.content.decode()
    assert street_case.number in html
    assert "和平街12号门口的路灯坏了三天" in html
    assert "路灯不亮" in html  # category name
    assert "和平街道办事处" in html  # lead unit
    assert "+8613800138000" in html  # the dispatcher calls back: phone in clear
    assert 'id="h-timeline"' in html and 'id="h-deadlines"' in html
    assert html.count('class="event"') == 2  # register, dispatch by rule
    assert "badge-ok" in html  # fresh deadlines are on time


def test_case_page_overdue_badge(client_for, street_case):
    Case.objects.filter(pk=street_case.pk).update(reply_due="2020-01-01T00:00:00Z")
    html = client_for("street_handler").get(url(street_case)).content.decode()
    assert "badge-overdue" in html


@pytest.mark.parametrize(("username", "shown", "hidden"), [
    ("street_handler", ["accept", "return", "note"], ["dispatch", "transfer", "review"]),
    ("dispatcher", ["transfer", "merge", "withdraw"], ["accept", "return", "supervise"]),
    ("supervisor", ["supervise", "transfer"], ["accept", "follow_up"]),
    ("district_manager", ["accept", "return"], ["dispatch"]),  # the street is in the district's subtree
    ("analyst", ["note"], ["accept", "dispatch", "transfer"]),
])
def test_case_page_offers_the_moves_of_the_role(client_for, street_case, username, shown, hidden):
    html = client_for(username).get(url(street_case)).content.decode()
    for name in shown:
        assert f'id="move-{name}"' in html, name
        assert f'action="{url(street_case, name)}"' in html
    for name in hidden:
        assert f'id="move-{name}"' not in html, name


def test_a_unit_handler_of_another_unit_gets_404(client_for, street_case):
    for username in ("water_handler", "other_handler", "street2_handler", "urban_handler"):
        assert client_for(username).get(url(street_case)).status_code == 404, username
        r = client_for(username).post(url(street_case, "accept"))
        assert r.status_code == 404
    assert state(street_case) == ("dispatched", 2)


def test_posting_a_move_changes_the_state_and_redirects(client_for, street_case):
    c = client_for("street_handler")
    r = c.post(url(street_case, "accept"), {"accept-reason": "收到"})
    assert r.status_code == 302 and r["Location"] == url(street_case)
    case = Case.objects.get(pk=street_case.pk)
    assert case.status == "accepted"
    event = case.events.order_by("-seq").first()
    assert (event.action, event.actor_name, event.reason) == ("accept", "street_handler", "收到")
    page = c.get(url(street_case)).content.decode()
    assert 'role="status"' in page  # the "done" message


def test_move_with_htmx_swaps_only_the_panel(client_for, street_case):
    r = client_for("street_handler").post(url(street_case, "accept"), **HTMX)
    assert r.status_code == 200
    html = r.content.decode()
    assert html.lstrip().startswith('<div id="case-panel"')
    assert "<html" not in html
    assert 'id="move-reply"' in html  # the next moves are offered
    assert Case.objects.get(pk=street_case.pk).status == "accepted"


def test_move_in_the_wrong_state_is_refused_and_changes_nothing(client_for, street_case):
    before = state(street_case)
    r = client_for("street_handler", language="en").post(url(street_case, "reply"), {"reply-reply": "已修好"})
    assert r.status_code == 409
    html = r.content.decode()
    assert 'role="alert"' in html and "not allowed while the case is" in html
    assert state(street_case) == before


def test_move_by_the_wrong_role_is_refused_and_changes_nothing(client_for, street_case):
    before = state(street_case)
    r = client_for("analyst", language="en").post(url(street_case, "transfer"), {"transfer-unit": "water"})
    assert r.status_code == 403
    assert "Your role may not make the move" in r.content.decode()
    assert state(street_case) == before
    assert Case.objects.get(pk=street_case.pk).lead_unit.code == "gov-d1s1"


def test_move_by_a_unit_that_no_longer_holds_the_case_is_refused(client_for, city, street_case):
    move(city.actor("dispatcher"), street_case, "transfer", unit="water", reason="供水问题")
    before = state(street_case)
    # The street office still sees the case (it held it once) but no longer holds it.
    r = client_for("street_handler", language="en").post(url(street_case, "accept"))
    assert r.status_code == 403
    assert "not held by your unit" in r.content.decode()
    assert state(street_case) == before


def test_refused_move_with_htmx_swaps_the_panel_with_field_errors(client_for, street_case):
    client_for("street_handler").post(url(street_case, "accept"))
    before = state(street_case)
    r = client_for("street_handler").post(url(street_case, "return"), {"return-reason": ""}, **HTMX)
    assert r.status_code == 422
    html = r.content.decode()
    assert html.lstrip().startswith('<div id="case-panel"')
    assert '<details class="move" id="move-return" open>' in html
    assert 'id="id_return-reason_error"' in html or 'id="id_return-reason_code_error"' in html
    assert 'aria-invalid="true"' in html
    assert state(street_case) == before


def test_dispatch_form_lists_units_and_dispatches_with_co_handlers(client_for, city):
    case = register(city.actor("agent"))  # no rule: stays registered
    html = client_for("dispatcher").get(url(case)).content.decode()
    assert 'name="dispatch-unit"' in html and 'value="gov-d1s1"' in html
    r = client_for("dispatcher").post(url(case, "dispatch"),
                                      {"dispatch-unit": "gov-d1s1", "dispatch-co_units": ["water"]})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.status == "dispatched" and case.lead_unit.code == "gov-d1s1"
    assert case.assignments.filter(active=True, unit__code="water", role="co").exists()


def test_dispatch_without_a_unit_shows_the_field_error(client_for, city):
    case = register(city.actor("agent"))
    r = client_for("dispatcher").post(url(case, "dispatch"), {"dispatch-unit": ""})
    assert r.status_code == 422
    assert 'id="id_dispatch-unit_error"' in r.content.decode()
    assert state(case) == ("registered", 1)


def test_unknown_choice_is_refused_by_the_form(client_for, city):
    case = register(city.actor("agent"))
    r = client_for("dispatcher").post(url(case, "dispatch"), {"dispatch-unit": "no-such-unit"})
    assert r.status_code == 422
    assert state(case) == ("registered", 1)


def test_unknown_action_is_404_and_get_is_not_allowed(client_for, street_case):
    assert client_for("dispatcher").post(url(street_case, "explode")).status_code == 404
    assert client_for("street_handler").get(url(street_case, "accept")).status_code == 405
    assert state(street_case) == ("dispatched", 2)


def test_return_pause_extension_follow_up_fields(client_for, city, street_case):
    c = client_for("street_handler")
    c.post(url(street_case, "accept"))
    r = c.post(url(street_case, "pause"), {"pause-reason_code": "waiting_citizen"})
    assert r.status_code == 302
    assert Case.objects.get(pk=street_case.pk).paused_at is not None
    assert c.post(url(street_case, "resume")).status_code == 302
    r = c.post(url(street_case, "request_extension"), {"request_extension-days": "3",
                                                        "request_extension-reason": "需要采购灯具"})
    assert r.status_code == 302
    assert Case.objects.get(pk=street_case.pk).extension_pending_days == 3
    html = client_for("dispatcher").get(url(street_case)).content.decode()
    assert 'id="move-approve_extension"' in html
    r = c.post(url(street_case, "return"), {"return-reason_code": "not_our_duty", "return-reason": "不归我们管"})
    assert r.status_code == 302
    assert Case.objects.get(pk=street_case.pk).status == "returned"


def test_merge_into_another_case(client_for, city, street_case):
    other = register(city.actor("agent"), description="路灯又坏了")
    r = client_for("dispatcher").post(url(other, "merge"), {"merge-into": street_case.number})
    assert r.status_code == 302
    other.refresh_from_db()
    assert other.status == "closed" and other.merged_into_id == street_case.pk
    assert CaseEvent.objects.filter(case=street_case, action="merged_in").exists()


def test_analyst_sees_the_phone_masked(client_for, street_case):
    html = client_for("analyst").get(url(street_case)).content.decode()
    assert "138****8000" in html
    assert "13800138000" not in html
    assert "张*" in html and "张三" not in html


def test_reporter_of_a_report_is_hidden_from_units(client_for, city):
    from govcrm.cases.tests.factories import LEAF, dispatch_rule

    dispatch_rule(LEAF, city.street1, city.street_area)
    case = register(city.actor("agent"), case_type="report",
                    citizen={"name": "李四", "phone": "+8613900139000"})
    unit_html = client_for("street_handler").get(url(case)).content.decode()
    assert "13900139000" not in unit_html and "139****9000" not in unit_html and "李" not in unit_html
    assert "举报人信息保密" in unit_html
    centre_html = client_for("dispatcher").get(url(case)).content.decode()
    assert "+8613900139000" in centre_html


def test_user_without_staff_profile_gets_403(db):
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_user("visitor", password="pass-12345")
    client = Client()
    client.force_login(user)
    for path in ("/console/", "/console/search/?q=x", "/console/intake/", "/console/cases/1/"):
        assert client.get(path).status_code == 403, path


def test_anonymous_is_sent_to_login(db, client):
    r = client.get("/console/cases/123/")
    assert r.status_code == 302 and r["Location"].startswith("/console/login/?next=")
    r = client.post("/console/cases/123/actions/accept/", **HTMX)
    assert r["HX-Redirect"].startswith("/console/login/")


def test_case_page_query_count_does_not_grow_with_events(client_for, city, street_case, django_assert_max_num_queries):
    c = client_for("street_handler")
    for action, data in [("accept", {}), ("contact", {"contact-method": "phone"}),
                         ("note", {"note-reason": "a"}), ("note", {"note-reason": "b"})]:
        c.post(url(street_case, action), data)
    with django_assert_max_num_queries(20):
        assert c.get(url(street_case)).status_code == 200


def test_district_dispatches_down_to_one_of_its_streets(client_for, city):
    from govcrm.cases.tests.factories import LEAF, dispatch_rule

    dispatch_rule(LEAF, city.district, city.district_area)
    case = register(city.actor("agent"))
    c = client_for("district_manager")
    c.post(url(case, "accept"))
    html = c.get(url(case)).content.decode()
    form = html.split('id="move-subdispatch"')[1].split("</form>")[0]
    assert 'value="gov-d1s1"' in form and 'value="gov-d1s2"' in form
    assert 'value="water"' not in form and 'value="gov-d2"' not in form  # only units below the district
    r = c.post(url(case, "subdispatch"), {"subdispatch-unit": "gov-d1s1"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.status == "dispatched" and case.lead_unit.code == "gov-d1s1"
    assert client_for("street_handler").post(url(case, "accept")).status_code == 302


def test_follow_up_with_a_bad_answer_is_refused(client_for, city, street_case):
    street, dispatcher = city.actor("street_handler"), city.actor("dispatcher")
    move(street, street_case, "accept")
    move(street, street_case, "reply", reply="已修复")
    move(dispatcher, street_case, "review")
    before = state(street_case)
    r = client_for("agent").post(url(street_case, "follow_up"), {"follow_up-resolved": "yes"})
    assert r.status_code == 422
    assert 'id="id_follow_up-satisfied_error"' in r.content.decode()
    assert state(street_case) == before


def test_reopen_after_an_unsatisfied_follow_up(client_for, city, street_case):
    street, dispatcher = city.actor("street_handler"), city.actor("dispatcher")
    move(street, street_case, "accept")
    move(street, street_case, "reply", reply="已修复")
    move(dispatcher, street_case, "review")
    client_for("agent").post(url(street_case, "follow_up"), {"follow_up-resolved": "no", "follow_up-satisfied": "no"})
    r = client_for("dispatcher").post(url(street_case, "reopen"), {"reopen-reason": "市民反映仍未修好"})
    assert r.status_code == 302
    case = Case.objects.get(pk=street_case.pk)
    assert case.status == "dispatched" and case.reopen_count == 1 and case.lead_unit.code == "gov-d1s1"


def test_supervisor_supervises_an_overdue_case(client_for, street_case):
    Case.objects.filter(pk=street_case.pk).update(reply_due="2020-01-01T00:00:00Z")
    r = client_for("supervisor").post(url(street_case, "supervise"), {"supervise-reason": "已超期，请尽快办理"})
    assert r.status_code == 302
    assert Case.objects.get(pk=street_case.pk).supervision_level == 1


def test_htmx_request_for_a_case_out_of_sight_reloads_the_page(client_for, street_case):
    r = client_for("water_handler").post(url(street_case, "accept"), **HTMX)
    assert r.status_code == 404 and r["HX-Refresh"] == "true"
