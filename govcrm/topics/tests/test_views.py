import pytest

from govcrm.cases.models import Case, Channel
from govcrm.topics.actions import topics_detect
from govcrm.topics.models import Topic, Warning

from .factories import incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def detected(city):
    cases = incident(city.actor("agent"))
    run = topics_detect()
    return run, Topic.objects.get(run=run, links__case=cases[0]), Warning.objects.get(kind=Warning.Kind.TOPIC)


@pytest.mark.parametrize(("language", "words"), [("en", ["Hot topics", "Top terms"]), ("zh-hans", ["热点", "关键词"])])
def test_pages_render_in_both_languages(client_for, detected, language, words):
    _run, topic, warning = detected
    client = client_for("analyst", language=language)
    page = client.get("/console/topics/").content.decode()
    assert all(w in page for w in words)
    assert f"/console/topics/{topic.pk}/" in page
    detail = client.get(f"/console/topics/{topic.pk}/")
    assert detail.status_code == 200 and b"<svg" in detail.content and b"<circle" in detail.content
    assert client.get("/console/topics/warnings/").status_code == 200
    page = client.get(f"/console/topics/warnings/{warning.pk}/").content.decode()
    assert all(c.number in page for c in warning.source_cases.all())
    assert "/convert/" not in page  # an analyst may look, not decide


def test_supervisor_converts_a_warning_by_post(client_for, detected, city):
    _run, _topic, warning = detected
    client = client_for("supervisor", language="en")
    page = client.get(f"/console/topics/warnings/{warning.pk}/").content.decode()
    assert f"/console/topics/warnings/{warning.pk}/convert/" in page
    response = client.post(f"/console/topics/warnings/{warning.pk}/convert/",
                           {"unit": city.water.code, "urgency": "urgent", "category": "", "title": "",
                            "description": ""})
    assert response.status_code == 302
    warning.refresh_from_db()
    assert warning.status == Warning.Status.CONVERTED
    assert warning.task.channel == Channel.PROACTIVE and warning.task.lead_unit == city.water
    assert response["Location"] == f"/console/cases/{warning.task.number}/"


def test_supervisor_dismisses_a_warning_by_post(client_for, detected):
    _run, _topic, warning = detected
    response = client_for("supervisor").post(f"/console/topics/warnings/{warning.pk}/dismiss/", {"note": "已处理"})
    assert response.status_code == 302
    warning.refresh_from_db()
    assert warning.status == Warning.Status.DISMISSED and warning.decision_note == "已处理"


def test_get_on_the_decision_urls_changes_nothing(client_for, detected):
    _run, _topic, warning = detected
    client = client_for("supervisor")
    assert client.get(f"/console/topics/warnings/{warning.pk}/convert/").status_code == 405
    assert client.get(f"/console/topics/warnings/{warning.pk}/dismiss/").status_code == 405
    warning.refresh_from_db()
    assert warning.status == Warning.Status.NEW
    assert not Case.objects.filter(channel=Channel.PROACTIVE).exists()


@pytest.mark.parametrize("username", ["street_handler", "dispatcher"])
def test_other_roles_cannot_see_or_decide(client_for, detected, username):
    _run, topic, warning = detected
    client = client_for(username)
    assert client.get("/console/topics/").status_code == 403
    assert client.get(f"/console/topics/{topic.pk}/").status_code == 403
    assert client.post(f"/console/topics/warnings/{warning.pk}/convert/", {"urgency": "normal"}).status_code == 403
    assert client.post(f"/console/topics/warnings/{warning.pk}/dismiss/", {}).status_code == 403
    warning.refresh_from_db()
    assert warning.status == Warning.Status.NEW


def test_an_analyst_cannot_decide_by_post(client_for, detected):
    _run, _topic, warning = detected
    assert client_for("analyst").post(f"/console/topics/warnings/{warning.pk}/dismiss/", {}).status_code == 403
    warning.refresh_from_db()
    assert warning.status == Warning.Status.NEW


def test_nav_link_only_for_supervisors_analysts_and_admins(client_for, detected):
    assert b"/console/topics/" in client_for("supervisor").get("/console/").content
    assert b"/console/topics/" not in client_for("agent").get("/console/").content


def test_csrf_is_required_for_decisions(city, detected):
    from django.test import Client

    _run, _topic, warning = detected
    client = Client(enforce_csrf_checks=True)
    client.force_login(city.users["supervisor"])
    assert client.post(f"/console/topics/warnings/{warning.pk}/dismiss/", {}).status_code == 403
    warning.refresh_from_db()
    assert warning.status == Warning.Status.NEW
