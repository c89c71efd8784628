"""The intake's plain statements (common/fastsql.py) write and read exactly what the ORM does."""

import datetime as dt

import pytest
from django.db.models import signals
from django.forms.models import model_to_dict
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from govcrm.cases.models import Case, CaseEvent, Category
from govcrm.cases.tests.factories import LEAF
from govcrm.channels.models import Interaction
from govcrm.citizens.models import Citizen, Identity
from govcrm.common import fastsql
from govcrm.common.jobs import DatabaseBackend
from govcrm.notifications.models import Notification

pytestmark = pytest.mark.django_db


def columns(obj) -> dict:
    """Every column of the stored row, read back through the ORM."""
    fresh = type(obj).objects.get(pk=obj.pk)
    return {f.attname: getattr(fresh, f.attname) for f in type(obj)._meta.concrete_fields
            if f.attname not in ("id", "created_at", "updated_at", "enqueued_at")}


def test_rows_written_equal_the_orms(city):
    """Case, event, citizen, identity, interaction and notification: the same row both ways."""
    category = Category.objects.get(code=LEAF)
    due = timezone.now() + dt.timedelta(hours=4)

    def case(number):
        return Case(number=number, query_code="123456", case_type="complaint", category=category,
                    status="registered", channel="portal", title="路灯", description="和平路的路灯坏了",
                    address="和平路 1 号", area=city.street_area, lat=39.9, lon=116.4, language="zh-hans",
                    search_text="路灯 和平路", accept_due=due)

    by_orm, by_sql = case("20260101000001"), case("20260101000002")
    by_orm.save(force_insert=True)
    assert fastsql.insert(by_sql) is by_sql and by_sql.pk and not by_sql._state.adding
    assert columns(by_sql) == {**columns(by_orm), "number": "20260101000002"}
    assert by_sql.created_at is not None and by_sql.updated_at is not None  # auto_now(_add) filled in

    citizen_a = Citizen.objects.create(name="张三", language="zh-hans")
    citizen_b = fastsql.insert(Citizen(name="张三", language="zh-hans"))
    assert columns(citizen_b) == columns(citizen_a)
    ident = fastsql.insert(Identity.build(citizen=citizen_b, kind="phone", normalised="+8613800138000"))
    assert Identity.objects.get(pk=ident.pk).value == "+8613800138000"

    data = {"channel": "portal", "nested": {"list": [1, "二"]}}
    at = timezone.now()
    for model, fields in (
        (CaseEvent, {"seq": 1, "action": "register", "actor_name": "agent", "actor_role": "agent",
                     "at": at, "from_status": "", "to_status": "registered", "data": data}),
        (Interaction, {"channel": "portal", "direction": "in", "content": "路灯坏了", "data": data}),
        (Notification, {"channel": "sms", "kind": "registered", "language": "zh-hans", "subject": "受理",
                        "body": "您的诉求已受理", "next_attempt_at": at}),
    ):
        orm = model(**fields, case=by_orm)
        if model is Notification:
            orm.dedupe_key, orm.citizen = "a", citizen_a
        orm.save(force_insert=True)
        sql = model(**fields, case=by_sql)
        if model is Notification:
            sql.dedupe_key, sql.citizen = "b", citizen_a
        fastsql.insert(sql)
        assert {k: v for k, v in columns(sql).items() if k not in ("case_id", "dedupe_key")} == \
               {k: v for k, v in columns(orm).items() if k not in ("case_id", "dedupe_key")}


def test_fetch_one_reads_what_a_queryset_reads(city):
    citizen = Citizen.objects.create(name="李四", language="en")
    ident = Identity.build(citizen=citizen, kind="phone", normalised="+8613900139000")
    ident.save()
    found = fastsql.fetch_one(Identity, "WHERE citizens_identity.kind = %s AND citizens_identity.blind_index = %s",
                              ["phone", ident.blind_index])
    assert model_to_dict(found) == model_to_dict(Identity.objects.get(pk=ident.pk))
    assert found.created_at == Identity.objects.get(pk=ident.pk).created_at and not found._state.adding
    assert fastsql.fetch_one(Identity, "WHERE citizens_identity.kind = %s", ["nothing"]) is None


def test_signals_are_sent_as_save_sends_them(city):
    """django-tasks-db fills in a job's run_after in a pre_save receiver: a job row written by
    our backend has it, like one written by the ORM."""
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append((sender, kwargs.get("created")))

    signals.post_save.connect(receiver, sender=Citizen)
    try:
        fastsql.insert(Citizen(name="王五"))
    finally:
        signals.post_save.disconnect(receiver, sender=Citizen)
    assert seen == [(Citizen, True)]

    from govcrm.notifications.tasks import send_notification

    backend = DatabaseBackend("default", {})
    result = backend.enqueue(send_notification, [1], {})
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.run_after.year == 9999 and row.status == "READY" and row.args_kwargs == {"args": [1], "kwargs": {}}
