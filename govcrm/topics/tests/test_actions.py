import datetime as dt

import pytest
from django.utils import timezone

from govcrm.cases.models import Case, Channel
from govcrm.cases.tests.factories import LEAF, dispatch_rule, move
from govcrm.cases.workflow import Status
from govcrm.common.errors import Forbidden, NotAllowed
from govcrm.topics.actions import TaskInput, topics_detect, warning_convert, warning_dismiss
from govcrm.topics.models import Topic, Warning

from .factories import UNRELATED, incident, register_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def burst(city):
    """Four reports of one incident in the last day, a few unrelated cases over the past weeks."""
    now = timezone.now()
    agent = city.actor("agent")
    for k, (title, text, category) in enumerate(UNRELATED * 3):
        register_at(agent, now - dt.timedelta(days=2 + 2 * k), title=title, description=text, category=category,
                    area="d2" if k % 2 else "d1s1g1")
    return incident(agent, now=now)


def test_detect_finds_the_incident_as_one_topic_and_raises_a_topic_warning(burst):
    run = topics_detect()
    topic = Topic.objects.get(run=run, links__case=burst[0])
    assert set(topic.links.values_list("case_id", flat=True)) == {c.pk for c in burst}
    assert topic.size == 4
    assert topic.representative_id in {c.pk for c in burst}
    assert sum(topic.daily) == 4 and topic.daily[-1] == 4
    assert set(topic.channels) == {"wechat", "phone", "sms", "portal"}
    assert topic.lat == pytest.approx(30.6604, abs=1e-3)
    warning = Warning.objects.get(kind=Warning.Kind.TOPIC)
    assert warning.observed == 4
    assert set(warning.source_cases.values_list("pk", flat=True)) == {c.pk for c in burst}


def test_detect_twice_does_not_duplicate_warnings(burst):
    topics_detect()
    topics_detect()
    assert Warning.objects.filter(kind=Warning.Kind.TOPIC).count() == 1


def test_unrelated_cases_are_not_merged_into_the_incident(burst):
    run = topics_detect()
    incident_topic = Topic.objects.get(run=run, links__case=burst[0])
    others = Case.objects.exclude(pk__in=[c.pk for c in burst])
    assert not incident_topic.links.filter(case__in=others).exists()


def test_a_supervisor_turns_a_warning_into_a_proactive_task_handled_like_a_case(city, burst):
    topics_detect()
    warning = Warning.objects.get(kind=Warning.Kind.TOPIC)
    task = warning_convert(actor=city.actor("supervisor"), warning_id=warning.pk,
                           task=TaskInput(unit=city.water.code))
    warning.refresh_from_db()
    assert warning.status == Warning.Status.CONVERTED and warning.task == task
    assert task.channel == Channel.PROACTIVE
    assert task.status == Status.DISPATCHED and task.lead_unit == city.water
    note = task.events.get(action="note")
    assert all(c.number in note.reason for c in burst)
    # handled through the normal moves until closed
    handler = city.actor("water_handler")
    move(handler, task, "accept")
    move(handler, task, "reply", reply="Pipe repaired, road dry again.")
    move(city.actor("dispatcher"), task, "review")
    task = move(city.actor("agent"), task, "follow_up", resolved=True, satisfied=True, rating=5)
    assert task.status == Status.CLOSED


def test_a_converted_task_without_a_unit_is_dispatched_by_rule(city, burst):
    dispatch_rule("economy.utilities.water", city.water)
    topics_detect()
    warning = Warning.objects.get(kind=Warning.Kind.TOPIC)
    task = warning_convert(actor=city.actor("admin"), warning_id=warning.pk, task=TaskInput())
    assert task.lead_unit == city.water
    assert task.category.code == "economy.utilities.water"


@pytest.mark.parametrize("username", ["analyst", "dispatcher", "street_handler"])
def test_only_supervisors_and_admins_decide_warnings(city, burst, username):
    topics_detect()
    warning = Warning.objects.get(kind=Warning.Kind.TOPIC)
    with pytest.raises(Forbidden):
        warning_convert(actor=city.actor(username), warning_id=warning.pk, task=TaskInput(category=LEAF))
    with pytest.raises(Forbidden):
        warning_dismiss(actor=city.actor(username), warning_id=warning.pk)
    warning.refresh_from_db()
    assert warning.status == Warning.Status.NEW
    assert not Case.objects.filter(channel=Channel.PROACTIVE).exists()


def test_a_decided_warning_cannot_be_decided_again(city, burst):
    topics_detect()
    warning = Warning.objects.get(kind=Warning.Kind.TOPIC)
    warning_dismiss(actor=city.actor("supervisor"), warning_id=warning.pk, note="known, crew on site")
    with pytest.raises(NotAllowed):
        warning_convert(actor=city.actor("supervisor"), warning_id=warning.pk, task=TaskInput())
    topics_detect()  # a dismissed warning is not raised again for the same cases
    assert Warning.objects.filter(kind=Warning.Kind.TOPIC, status=Warning.Status.NEW).count() == 0


def test_proactive_tasks_do_not_feed_the_detection(city, burst):
    topics_detect()
    warning = Warning.objects.get(kind=Warning.Kind.TOPIC)
    task = warning_convert(actor=city.actor("supervisor"), warning_id=warning.pk, task=TaskInput())
    run = topics_detect()
    assert not Topic.objects.filter(run=run, links__case=task).exists()
