"""Tracking a case with its number and query code: what is shown, what is never shown, the throttle."""

import pytest
from django.test import Client

from govcrm.cases.models import Case

from .conftest import to_follow_up

pytestmark = pytest.mark.django_db

NOT_FOUND = "No request matches this case number and query code."


def english() -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    return client


def test_the_right_pair_shows_the_case(city, tracked):
    visitor = english()
    response = visitor.post("/track/", {"number": tracked.number, "code": tracked.query_code})
    assert response.status_code == 302 and response["Location"] == f"/track/{tracked.number}/"
    page = visitor.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert f"Request {tracked.number}" in html and "Your request was received." in html
    assert tracked.category.name_en in html


def test_a_wrong_code_and_an_unknown_number_get_the_same_neutral_answer(city, tracked):
    visitor = english()
    wrong_code = "000000" if tracked.query_code != "000000" else "111111"
    wrong = visitor.post("/track/", {"number": tracked.number, "code": wrong_code})
    unknown = visitor.post("/track/", {"number": "20000101999999", "code": tracked.query_code})
    assert wrong.status_code == unknown.status_code == 404
    assert NOT_FOUND in wrong.content.decode() and NOT_FOUND in unknown.content.decode()
    assert visitor.get(f"/track/{tracked.number}/")["Location"] == f"/track/?number={tracked.number}"


def test_empty_fields_are_asked_for(city):
    response = english().post("/track/", {"number": "", "code": ""})
    assert response.status_code == 422
    assert "Enter the case number." in response.content.decode()


def test_ten_wrong_pairs_from_one_address_then_429(city, tracked):
    visitor = english()
    for _ in range(10):
        assert visitor.post("/track/", {"number": tracked.number, "code": "x"}).status_code == 404
    blocked = visitor.post("/track/", {"number": tracked.number, "code": tracked.query_code})
    assert blocked.status_code == 429  # even the right code: guessing must stop
    assert "Too many wrong attempts" in blocked.content.decode()
    other = Client(REMOTE_ADDR="10.0.0.7")
    assert other.post("/track/", {"number": tracked.number, "code": tracked.query_code}).status_code == 302


def test_right_pairs_do_not_count_against_the_limit(city, tracked):
    visitor = english()
    for _ in range(12):
        assert visitor.post("/track/", {"number": tracked.number, "code": tracked.query_code}).status_code == 302


def test_the_page_shows_no_personal_data_and_no_staff_names(city, tracked):
    to_follow_up(city, tracked.number)
    visitor = english()
    visitor.post("/track/", {"number": tracked.number, "code": tracked.query_code})
    html = visitor.get(f"/track/{tracked.number}/").content.decode()
    for secret in ("张三", "13800138000", "138****8000", "dispatcher", "street_handler", "channel:portal",
                   tracked.description, tracked.query_code):
        assert secret not in html
    assert "Heping Street Office" in html  # the unit that handles it, by name
    assert "Sent to Heping Street Office." in html and "Heping Street Office replied." in html


def test_the_reply_is_shown_once_the_centre_approved_it(city, client, tracked):
    move_to_replied = [("dispatcher", "dispatch", {"unit": city.street1.code}), ("street_handler", "accept", {}),
                       ("street_handler", "reply", {"reply": "路灯已修复。"})]
    from govcrm.cases.tests.factories import move

    for who, action, data in move_to_replied:
        move(city.actor(who), tracked.number, action, **data)
    html = client.get(f"/track/{tracked.number}/").content.decode()
    assert "路灯已修复。" not in html and 'id="case-reply"' not in html
    move(city.actor("dispatcher"), tracked.number, "review")
    html = client.get(f"/track/{tracked.number}/").content.decode()
    assert "路灯已修复。" in html


def test_the_page_speaks_chinese(city, client, tracked):
    client.cookies["django_language"] = "zh-hans"
    html = client.get(f"/track/{tracked.number}/").content.decode()
    assert f"诉求 {tracked.number}" in html and "已收到您的诉求。" in html


def test_my_requests_lists_what_this_browser_sent_or_tracked(city, client, tracked, submit):
    submit(description="我家楼下的垃圾三天没人清运。", category="environment.sanitation.garbage")
    other = Case.objects.exclude(pk=tracked.pk).get()
    html = client.get("/mine/").content.decode()
    assert tracked.number in html and other.number in html
    stranger = english()
    assert tracked.number not in stranger.get("/mine/").content.decode()
    stranger.post("/track/", {"number": other.number, "code": other.query_code})
    html = stranger.get("/mine/").content.decode()
    assert other.number in html and tracked.number not in html
    forgotten = client.post("/mine/forget/", follow=True)
    assert tracked.number not in forgotten.content.decode()
    assert client.get(f"/track/{tracked.number}/").status_code == 302  # back to the tracking form


def test_the_language_switch_keeps_the_page(city):
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/track/"})
    assert response.status_code == 302 and response["Location"] == "/track/"
    html = client.get("/track/").content.decode()
    assert '<html lang="en">' in html and "Show my request" in html
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/track/"})
    assert "查询诉求" in client.get("/track/").content.decode()


def test_the_cases_a_browser_proved_are_kept_in_a_signed_cookie_not_a_session(city, client, tracked):
    """Submitting leaves no session row (views/session.py); the cookie cannot be extended by hand."""
    from django.contrib.sessions.models import Session

    from govcrm.channels.portal.views.session import COOKIE, SESSION_KEY

    assert Session.objects.count() == 0
    assert "sessionid" not in client.cookies and client.cookies[COOKIE]["httponly"]
    assert client.get(f"/track/{tracked.number}/").status_code == 200
    other = Case.objects.create(**{f.name: getattr(tracked, f.name) for f in Case._meta.concrete_fields
                                   if f.name not in ("id", "number", "query_code", "citizen")},
                                number=str(int(tracked.number) + 1), query_code="999999")
    forged = english()
    value = client.cookies[COOKIE].value
    forged.cookies[COOKIE] = value.replace(tracked.number, other.number)  # the signature no longer matches
    assert forged.get(f"/track/{other.number}/").status_code == 302
    forged.cookies[COOKIE] = value  # copied as it is: the same browser, as far as anyone can tell
    assert forged.get(f"/track/{tracked.number}/").status_code == 200
    # A number remembered in the session by an earlier release is still honoured.
    old = english()
    session = old.session
    session[SESSION_KEY] = [other.number]
    session.save()
    old.cookies["sessionid"] = session.session_key
    assert old.get(f"/track/{other.number}/").status_code == 200
