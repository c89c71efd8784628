"""Application events of the service catalogue (govcrm/services) become webhooks too."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from govcrm.common.reference import invalidate
from govcrm.integration import cloudevents
from govcrm.integration.actions import application_events_catch_up
from govcrm.integration.models import Delivery
from govcrm.services import actions as services
from govcrm.services.models import ApplicationEvent
from govcrm.services.tests.factories import SUBMITTED, senior_form, uploads, world

from .factories import subscriber

pytestmark = pytest.mark.django_db


def _submit(w):
    item = w.item("senior-allowance")
    return services.application_submit(service=item, citizen=w.citizen, raw_form=senior_form(), uploads=uploads(item),
                                       now=SUBMITTED)


def test_application_events_reach_the_responsible_units_subscriber(django_capture_on_commit_callbacks):
    w = world()
    civil, _ = subscriber("http://127.0.0.1:9/x", name="civil affairs", unit=w.units["civil"],
                          event_types=["gov.govcrm.application.*"])
    market, _ = subscriber("http://127.0.0.1:9/y", name="market", unit=w.units["market"])
    cases_only, _ = subscriber("http://127.0.0.1:9/z", name="cases", event_types=["gov.govcrm.case.*"])
    with django_capture_on_commit_callbacks(execute=True):
        application = _submit(w)
    rows = list(Delivery.objects.filter(subscriber=civil).order_by("pk"))
    kinds = list(application.events.order_by("seq").values_list("kind", flat=True))
    assert [r.event_type for r in rows] == [f"gov.govcrm.application.{k}" for k in kinds]
    assert "gov.govcrm.application.submitted" in [r.event_type for r in rows]
    assert not Delivery.objects.filter(subscriber__in=[market, cases_only]).exists()

    submitted = next(r.payload for r in rows if r.event_type.endswith(".submitted"))
    assert submitted["subject"] == application.number
    assert submitted["source"].endswith(":applications")
    assert submitted["data"]["application"]["service"] == "senior-allowance"
    assert submitted["data"]["application"]["unit"] == "civil"
    text = json.dumps([r.payload for r in rows], ensure_ascii=False)
    form = senior_form()
    for value in (form["name"], form["id_number"], form["address"]):  # the citizen's answers stay home
        assert value not in text
    task = next(r.payload for r in rows if r.event_type.endswith(".task_created"))
    assert task["data"]["event"]["data"] == {"role": "handler", "task": task["data"]["event"]["data"]["task"]}


def test_missed_announcements_are_caught_up_by_the_sweep_once():
    w = world()
    civil, _ = subscriber("http://127.0.0.1:9/x", unit=w.units["civil"])
    # Made now, the subscriber must be older than the events to catch them up: backdate it.
    type(civil).objects.filter(pk=civil.pk).update(created_at=SUBMITTED - dt.timedelta(days=1))
    application = _submit(w)  # the commit's announcement is lost (callbacks not run): a crash
    assert not Delivery.objects.exists()
    later = SUBMITTED + dt.timedelta(hours=1)
    invalidate()  # the backdating went around the model's save
    assert application_events_catch_up(now=later) == application.events.count()
    ids = set(Delivery.objects.values_list("event_id", flat=True))
    assert ids == {cloudevents.event_id("application-event", e.pk) for e in ApplicationEvent.objects.all()}
    assert application_events_catch_up(now=later) == 0  # written once
    # Older than the window: not caught up.
    Delivery.objects.all().delete()
    assert application_events_catch_up(now=SUBMITTED + dt.timedelta(days=3)) == 0
