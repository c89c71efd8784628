"""The dashboard and queue pages: each role's queues render, counted, scoped and paged cheaply."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from govcrm.cases.models import Case
from govcrm.cases.queries import QUEUES_BY_ROLE
from govcrm.cases.tests.factories import LEAF, dispatch_rule, move, register

pytestmark = pytest.mark.django_db

ROLE_OF = {"agent": "agent", "dispatcher": "dispatcher", "supervisor": "supervisor", "analyst": "analyst",
           "admin": "admin", "street_handler": "handler", "district_manager": "manager"}


@pytest.fixture
def cases_in_every_queue(city):
    agent, dispatcher, street = city.actor("agent"), city.actor("dispatcher"), city.actor("street_handler")
    registered = register(agent, description="没有规则的工单")
    dispatch_rule(LEAF, city.street1, city.street_area)
    dispatched = register(agent)
    accepted = move(street, register(agent), "accept")
    replied = move(street, move(street, register(agent), "accept"), "reply", reply="已修复")
    follow_up = move(dispatcher, move(street, move(street, register(agent), "accept"), "reply", reply="好"),
                     "review")
    overdue = move(street, register(agent), "accept")
    Case.objects.filter(pk=overdue.pk).update(reply_due="2020-01-01T00:00:00Z")
    extension = move(street, register(agent), "accept")
    move(street, extension, "request_extension", days=2, reason="需要更多时间")
    return {"to_dispatch": registered, "to_accept": dispatched, "in_progress": accepted, "to_review": replied,
            "to_follow_up": follow_up, "overdue": overdue, "extensions": extension}


@pytest.mark.parametrize("username", list(ROLE_OF))
def test_dashboard_shows_every_queue_of_the_role_with_counts(client_for, cases_in_every_queue, username):
    r = client_for(username, language="en").get("/console/")
    assert r.status_code == 200
    html = r.content.decode()
    for queue in QUEUES_BY_ROLE[ROLE_OF[username]]:
        assert f'id="queue-{queue}"' in html
        expected = cases_in_every_queue.get(queue)
        if expected is not None:
            assert expected.number in html, (username, queue)


@pytest.mark.parametrize(("username", "queue"), [(u, q) for u in ROLE_OF for q in QUEUES_BY_ROLE[ROLE_OF[u]]])
def test_each_queue_page_renders_for_its_role(client_for, cases_in_every_queue, username, queue):
    r = client_for(username).get(f"/console/queues/{queue}/")
    assert r.status_code == 200
    expected = cases_in_every_queue.get(queue)
    if expected is not None:
        assert expected.number in r.content.decode()


def test_queue_of_another_role_or_unknown_is_404(client_for, city):
    assert client_for("street_handler").get("/console/queues/to_dispatch/").status_code == 404
    assert client_for("dispatcher").get("/console/queues/nonsense/").status_code == 404


def test_unit_queues_hold_only_the_units_cases(client_for, cases_in_every_queue):
    html = client_for("water_handler").get("/console/queues/to_accept/").content.decode()
    assert cases_in_every_queue["to_accept"].number not in html
    html = client_for("district_manager").get("/console/queues/to_accept/").content.decode()
    assert cases_in_every_queue["to_accept"].number in html  # the street is in the district's subtree


def test_overdue_case_has_a_badge_in_the_queue(client_for, cases_in_every_queue):
    html = client_for("dispatcher").get("/console/queues/overdue/").content.decode()
    assert "badge-overdue" in html


def test_queue_pages_use_one_count_and_constant_queries(client_for, cases_in_every_queue, monkeypatch):
    from govcrm.console.views import queues

    monkeypatch.setattr(queues, "PAGE_SIZE", 2)
    client = client_for("dispatcher")
    client.get("/console/")  # warm caches (session, reference data)
    with CaptureQueriesContext(connection) as ctx:
        r = client.get("/console/queues/to_follow_up/")
    assert r.status_code == 200
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1
    assert len(ctx.captured_queries) <= 8
    with CaptureQueriesContext(connection) as ctx:
        client.get("/console/")
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == len(QUEUES_BY_ROLE["dispatcher"])


def test_queue_pages_link_to_next_and_previous(client_for, city, cases_in_every_queue, monkeypatch):
    from govcrm.console.views import queues

    monkeypatch.setattr(queues, "PAGE_SIZE", 2)
    client = client_for("street_handler")
    first = client.get("/console/queues/in_progress/")  # accepted: 3 cases + the extension one
    html = first.content.decode()
    assert 'rel="next"' in html and 'rel="prev"' not in html
    next_url = html.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get("/console/queues/in_progress/" + next_url).content.decode()
    assert 'rel="prev"' in second
    numbers_first = {c.number for c in Case.objects.all() if c.number in html}
    numbers_second = {c.number for c in Case.objects.all() if c.number in second}
    assert numbers_first and numbers_second and not numbers_first & numbers_second


def test_queue_counts_stop_at_the_cap(client_for, cases_in_every_queue, monkeypatch):
    from govcrm.console.views import queues

    monkeypatch.setattr(queues, "COUNT_CAP", 0)
    client = client_for("dispatcher", language="en")
    with CaptureQueriesContext(connection) as ctx:
        r = client.get("/console/")
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == len(QUEUES_BY_ROLE["dispatcher"]) and all("LIMIT" in q.upper() for q in counts)
    assert "more than 0" in r.content.decode()
    assert "more than 0" in client.get("/console/queues/to_dispatch/").content.decode()
